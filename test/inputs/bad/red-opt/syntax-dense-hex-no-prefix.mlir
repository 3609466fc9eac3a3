// A dense string without the 0x prefix; expects 3:27: error: expected a hex string starting with '0x' in dense literal
func.func @f() -> tensor<1xf32> {
  %c = red.constant dense<"0000803F"> : tensor<1xf32>
  func.return %c : tensor<1xf32>
}
