// An --entry the module does not define; expects 1:1: error: no function '@nope' in the module (functions: @main)
// ARGS: {input} --engine interp --random --entry nope
func.func @main(%x: tensor<2x3xf32>, %ids: tensor<4xi64>) -> tensor<2x3xf32> {
  %y = red.neg %x : tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}
