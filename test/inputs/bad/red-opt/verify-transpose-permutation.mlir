// A transpose whose permutation repeats an axis; expects 3:3: error: 'red.transpose' op permutation [0, 0] is not a permutation of 0..1 (input rank 2)
func.func @f(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
  %t = red.transpose %x [0, 0] : tensor<2x3xf32> -> tensor<2x2xf32>
  func.return %t : tensor<2x2xf32>
}
