// A value used with another type than its definition; expects 4:15: error: operand is used with type tensor<3x3xf32>, but has been previously used or defined with type tensor<3x2xf32>
func.func @f(%x: tensor<2x3xf32>) -> tensor<3x3xf32> {
  %t = red.transpose %x [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  func.return %t : tensor<3x3xf32>
}
