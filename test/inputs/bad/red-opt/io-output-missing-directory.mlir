// An output in a directory that does not exist; expects error: could not open output file 'no/such/dir/out.mlir': No such file or directory
// ARGS: {input} -o no/such/dir/out.mlir
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
