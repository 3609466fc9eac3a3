// A pass that does not exist; expects error: 'no-such-pass' does not refer to a registered pass or pass pipeline
// ARGS: {input} -p no-such-pass -o {out}
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
