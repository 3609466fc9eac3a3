// A pipeline whose braces do not close; expects error: invalid pass pipeline 'canonicalize{max-iterations=2': Malformed pass arguments, expected either a space or `}` here
// ARGS: {input} -p 'canonicalize{max-iterations=2' -o {out}
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
