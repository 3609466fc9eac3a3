// A private @red_f beside a public @f, whose C name is red_f; expects 2:1: error: '@red_f' lowers to '@red_f', which is also the C name of the public function '@f'
func.func private @red_f(%x: tensor<4xf32>) -> tensor<4xf32> {
  func.return %x : tensor<4xf32>
}
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = func.call @red_f(%x) : (tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
