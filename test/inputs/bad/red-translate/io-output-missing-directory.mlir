// An output in a directory that does not exist; expects error: could not open output file 'nowhere/out.ll': No such file or directory
// ARGS: --mlir-to-llvmir {input} -o nowhere/out.ll
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
