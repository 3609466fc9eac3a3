// A '$' where a token is expected; expects 4:3: error: Unexpected character: $
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  func.return %x : tensor<4xf32>
  $$$
}
