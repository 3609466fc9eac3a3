// A branch to a block that is never defined; expects 3:9: error: unexpected end of input (region ends with missing block declarations for block(s) bb9)
func.func @f() {
  cf.br ^bb9
}
