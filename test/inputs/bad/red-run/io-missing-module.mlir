// A module file that does not exist; expects error: could not open input file 'missing.mlir': No such file or directory
// ARGS: missing.mlir --engine interp --random
func.func @main(%x: tensor<2x3xf32>, %ids: tensor<4xi64>) -> tensor<2x3xf32> {
  %y = red.neg %x : tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}
