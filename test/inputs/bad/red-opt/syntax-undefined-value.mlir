// A use of a value never defined; expects 5:15: error: use of undeclared SSA value name '%z'
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>

  func.return %z : tensor<4xf32>
}
