// A report format that does not exist; expects error: argument --redundancy-report: invalid choice: 'xml' (choose from 'text', 'json')
// ARGS: {input} --redundancy-report=xml -o {out}
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
