// An option the pass does not have; expects error: no option 'no_such_option' for pass 'canonicalize' (options: fast-math, max-fold-bytes, max-iterations, reassoc, test-convergence)
// ARGS: {input} -p 'canonicalize{no-such-option=1}' -o {out}
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
