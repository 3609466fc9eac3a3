// A pass that miscompiles, caught by --verify-equivalence: the existing -o and report files keep their content; expects 4:1: error: equivalence check failed after pass 'test-miscompile': '@f' result #0 differs from the input module on the first call
// ARGS: {input} -p test-miscompile --verify-equivalence --redundancy-report --report-file report.txt -o {out}
// FILES: report.txt
func.func @f(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %z = red.add %x, %y : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %z : tensor<4xf32>
}
