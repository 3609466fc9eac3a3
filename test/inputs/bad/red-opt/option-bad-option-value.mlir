// An option value of the wrong type; expects error: bad option for pass 'canonicalize': Incompatible types: given ('many',), expected <class 'int'>
// ARGS: {input} -p 'canonicalize{max-iterations=many}' -o {out}
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
