// A use of a value never defined; expects 3:16: error: use of undeclared SSA value name '%q'
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %q : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
