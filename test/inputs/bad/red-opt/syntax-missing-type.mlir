// An op without its trailing type; expects 4:3: error: type expected
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.neg %x :
  func.return %y : tensor<4xf32>
}
