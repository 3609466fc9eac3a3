// --verify-equivalence with no inputs; expects error: --verify-equivalence expects a positive count, got 0
// ARGS: {input} -p cse --verify-equivalence=0 -o {out}
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
