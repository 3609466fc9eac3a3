// A cast to a complex element type; expects 3:3: error: 'red.cast' op element type 'complex<f32>' is not supported: red computes on integer, index and floating-point tensors
func.func @f(%x: tensor<4xf32>) -> tensor<4xcomplex<f32>> {
  %c = red.cast %x : tensor<4xf32> -> tensor<4xcomplex<f32>>
  func.return %c : tensor<4xcomplex<f32>>
}
