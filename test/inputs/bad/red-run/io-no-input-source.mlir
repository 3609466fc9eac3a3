// Neither --inputs nor --random; expects error: one of the arguments --inputs --random is required
// ARGS: {input} --engine interp
func.func @main(%x: tensor<2x3xf32>, %ids: tensor<4xi64>) -> tensor<2x3xf32> {
  %y = red.neg %x : tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}
