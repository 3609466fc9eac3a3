// A tensor of index elements; expects 2:1: error: '@f' has tensors of 'index' elements, which the C ABI has no type for (use i64) ('tensor<4xindex>')
func.func @f(%x: tensor<4xindex>) -> tensor<4xindex> {
  %y = red.add %x, %x : tensor<4xindex>, tensor<4xindex> -> tensor<4xindex>
  func.return %y : tensor<4xindex>
}
