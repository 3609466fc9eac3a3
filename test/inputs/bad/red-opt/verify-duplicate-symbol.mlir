// Two functions with one name; expects 1:1: error: 'builtin.module' op Redefinition of symbol "f"
func.func @f() {
  func.return
}

func.func @f() {
  func.return
}
