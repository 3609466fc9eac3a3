// An engine that does not exist; expects error: argument --engine: invalid choice: 'gpu' (choose from 'jit', 'interp')
// ARGS: {input} --engine gpu --random
func.func @main(%x: tensor<2x3xf32>, %ids: tensor<4xi64>) -> tensor<2x3xf32> {
  %y = red.neg %x : tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}
