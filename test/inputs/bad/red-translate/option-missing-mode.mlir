// No translation named; expects error: the following arguments are required: --mlir-to-llvmir
// ARGS: {input} -o {out}
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
