// A reshape that changes the element count; expects 3:3: error: 'red.reshape' op reshape changes the element count: input 2x3 has 6, result 7 has 7
func.func @f(%x: tensor<2x3xf32>) -> tensor<7xf32> {
  %r = red.reshape %x : tensor<2x3xf32> -> tensor<7xf32>
  func.return %r : tensor<7xf32>
}
