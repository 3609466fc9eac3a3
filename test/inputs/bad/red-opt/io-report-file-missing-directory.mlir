// A report file in a directory that does not exist; expects error: could not open report file 'no/dir/report.json': No such file or directory
// ARGS: {input} -p cse --redundancy-report=json --report-file no/dir/report.json -o {out}
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
