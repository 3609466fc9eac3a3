// A matmul of vectors; expects 3:3: error: 'red.matmul' op expected operands of rank >= 2, got 1 and 1
func.func @f(%a: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<f32> {
  %c = red.matmul %a, %b : tensor<3xf32>, tensor<3xf32> -> tensor<f32>
  func.return %c : tensor<f32>
}
