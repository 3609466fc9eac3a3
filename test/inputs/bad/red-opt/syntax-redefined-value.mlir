// An SSA name defined twice; expects 4:3: error: SSA value %y is already defined
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  %y = red.exp %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
