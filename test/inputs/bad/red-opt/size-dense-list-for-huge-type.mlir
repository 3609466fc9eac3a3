// An explicit literal for a type of 2^40 elements; expects 3:27: error: dense literal has shape [2], its type
func.func @f() -> tensor<1048576x1048576xf32> {
  %c = red.constant dense<[1.0, 2.0]> : tensor<1048576x1048576xf32>
  func.return %c : tensor<1048576x1048576xf32>
}
