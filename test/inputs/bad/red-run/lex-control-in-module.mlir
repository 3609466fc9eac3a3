// A control character in the module; expects 3:1: error: Unexpected character: \x1b
func.func @main() {

  func.return
}
