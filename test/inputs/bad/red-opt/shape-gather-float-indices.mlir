// A gather with float indices; expects 3:3: error: 'red.gather' op expected integer indices, got element type 'f32'
func.func @f(%t: tensor<4x2xf32>, %i: tensor<3xf32>) -> tensor<3x2xf32> {
  %g = red.gather %t, %i axis = 0 : tensor<4x2xf32>, tensor<3xf32> -> tensor<3x2xf32>
  func.return %g : tensor<3x2xf32>
}
