// A --pass-pipeline not anchored on an op; expects error: expected a pipeline anchored on 'builtin.module(...)', got 'cse'
// ARGS: {input} --pass-pipeline=cse -o {out}
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
