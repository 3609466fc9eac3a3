// A negative equivalence budget; expects error: --verify-equivalence-budget expects seconds >= 0, got -1
// ARGS: {input} -p cse --verify-equivalence --verify-equivalence-budget=-1 -o {out}
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
