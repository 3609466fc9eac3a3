// --report-file naming the input; expects error: report file '{input}' is the input file; refusing to overwrite it
// ARGS: {input} -p cse --redundancy-report --report-file {input} -o {out}
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
