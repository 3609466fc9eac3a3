// --seed with a word; expects error: argument --seed: invalid int value: 'abc'
// ARGS: {input} --engine interp --random --seed abc
func.func @main(%x: tensor<2x3xf32>, %ids: tensor<4xi64>) -> tensor<2x3xf32> {
  %y = red.neg %x : tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}
