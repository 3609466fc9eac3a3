// A red op on complex tensors; expects 3:3: error: 'red.add' op element type 'complex<f32>' is not supported: red computes on integer, index and floating-point tensors
func.func @f(%x: tensor<4xcomplex<f32>>) -> tensor<4xcomplex<f32>> {
  %y = red.add %x, %x : tensor<4xcomplex<f32>>, tensor<4xcomplex<f32>> -> tensor<4xcomplex<f32>>
  func.return %y : tensor<4xcomplex<f32>>
}
