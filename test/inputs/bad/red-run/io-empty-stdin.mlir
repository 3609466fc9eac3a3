// An empty module from stdin; expects <stdin>:1:1: error: input is empty: expected a module or operations
// ARGS: - --engine interp --random
func.func @main(%x: tensor<2x3xf32>, %ids: tensor<4xi64>) -> tensor<2x3xf32> {
  %y = red.neg %x : tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}
