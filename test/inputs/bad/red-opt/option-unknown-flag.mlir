// A flag red-opt does not have; expects error: unrecognized arguments: --frobnicate
// ARGS: {input} --frobnicate -o {out}
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
