// Text after the last op; expects 6:1: error: Could not parse entire input!
func.func @f() {
  func.return
}

}}}
