// --repeat 0; expects error: --repeat expects a positive count, got 0
// ARGS: {input} --engine interp --random --repeat 0
func.func @main(%x: tensor<2x3xf32>, %ids: tensor<4xi64>) -> tensor<2x3xf32> {
  %y = red.neg %x : tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}
