// A function body that is never closed; expects 5:1: error: unexpected end of input (in block definition)
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
