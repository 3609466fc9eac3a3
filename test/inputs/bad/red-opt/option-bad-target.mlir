// An output format that does not exist; expects error: argument -t/--target: invalid choice: 'wasm' (choose from 'mlir', 'llvm')
// ARGS: {input} -t wasm -o {out}
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
