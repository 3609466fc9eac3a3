// A concat along an axis the inputs lack; expects 3:3: error: 'red.concat' op axis 1 is out of range for rank 1 (expected 0 <= axis < 1)
func.func @f(%a: tensor<2xf32>, %b: tensor<2xf32>) -> tensor<4xf32> {
  %c = red.concat %a, %b axis = 1 : tensor<2xf32>, tensor<2xf32> -> tensor<4xf32>
  func.return %c : tensor<4xf32>
}
