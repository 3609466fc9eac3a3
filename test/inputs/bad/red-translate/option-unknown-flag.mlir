// A flag red-translate does not have; expects error: unrecognized arguments: --mlir-to-spirv
// ARGS: --mlir-to-llvmir --mlir-to-spirv {input} -o {out}
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
