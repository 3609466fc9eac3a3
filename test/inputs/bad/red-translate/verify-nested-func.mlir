// A func.func nested in a func.func; expects 3:3: error: 'func.func' op symbol's parent must have the SymbolTable trait
func.func @f() {
  func.func @g() {
    func.return
  }
  func.return
}
