// A softmax over an axis the input lacks; expects 3:3: error: 'red.softmax' op axis 5 is out of range for rank 2 (expected 0 <= axis < 2)
func.func @f(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %s = red.softmax %x axis = 5 : tensor<2x3xf32>
  func.return %s : tensor<2x3xf32>
}
