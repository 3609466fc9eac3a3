// An input that is a directory; expects error: could not open input file 'results': Is a directory
// ARGS: results -o {out}
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
