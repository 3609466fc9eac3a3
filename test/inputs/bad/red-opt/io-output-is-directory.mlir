// An output that is a directory; expects error: could not open output file 'results': Is a directory
// ARGS: {input} -o results
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
