// A float literal with a dangling exponent; expects 3:31: error: ']' expected
func.func @f() -> tensor<2xf32> {
  %c = red.constant dense<[1.0e, 2.0]> : tensor<2xf32>
  func.return %c : tensor<2xf32>
}
