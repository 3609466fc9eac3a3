// A flag red-run does not have; expects error: unrecognized arguments: --threads
// ARGS: {input} --engine interp --random --threads 4
func.func @main(%x: tensor<2x3xf32>, %ids: tensor<4xi64>) -> tensor<2x3xf32> {
  %y = red.neg %x : tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}
