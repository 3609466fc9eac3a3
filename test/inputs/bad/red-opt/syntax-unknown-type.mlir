// A type of an unknown dialect; expects 2:26: error: 'foo.bar' is not registered
func.func @f(%x: !foo.bar) -> !foo.bar {
  func.return %x : !foo.bar
}
