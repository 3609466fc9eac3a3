// -o and --report-file naming one file; expects error: 'out.mlir' is given for two outputs
// ARGS: {input} -p cse --redundancy-report --report-file out.mlir -o {out}
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
