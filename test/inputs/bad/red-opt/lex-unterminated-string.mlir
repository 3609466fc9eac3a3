// A string literal that never ends; expects 3:27: error: End of file reached before closing string literal.
func.func @f() -> tensor<1xf32> {
  %c = red.constant dense<"0x0000803F> : tensor<1xf32>
  func.return %c : tensor<1xf32>
}
