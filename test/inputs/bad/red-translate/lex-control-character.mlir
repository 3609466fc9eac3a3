// A control character in the text; expects 3:3: error: Unexpected character: \x07
func.func @f() {
  
  func.return
}
