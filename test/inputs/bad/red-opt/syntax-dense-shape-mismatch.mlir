// A dense literal whose shape differs from its type; expects 3:27: error: dense literal has shape [2], its type 'tensor<3xf32>' has shape [3]
func.func @f() -> tensor<3xf32> {
  %c = red.constant dense<[1.0, 2.0]> : tensor<3xf32>
  func.return %c : tensor<3xf32>
}
