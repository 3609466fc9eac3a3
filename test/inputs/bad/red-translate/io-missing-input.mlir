// An input file that does not exist; expects error: could not open input file 'missing.mlir': No such file or directory
// ARGS: --mlir-to-llvmir missing.mlir -o {out}
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
