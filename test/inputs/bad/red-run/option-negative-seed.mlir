// A negative --seed; expects error: --seed expects a non-negative integer, got -1
// ARGS: {input} --engine interp --random --seed -1
func.func @main(%x: tensor<2x3xf32>, %ids: tensor<4xi64>) -> tensor<2x3xf32> {
  %y = red.neg %x : tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}
