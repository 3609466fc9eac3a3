// A function with a dynamic dimension, which the lowering cannot size; expects 2:1: error: '@f' has a dynamic shape 'tensor<?xf32>': the lowering needs static shapes
func.func @f(%x: tensor<?xf32>) -> tensor<?xf32> {
  %y = red.neg %x : tensor<?xf32>
  func.return %y : tensor<?xf32>
}
