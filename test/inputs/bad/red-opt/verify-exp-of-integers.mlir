// A float-only op on integers; expects 3:3: error: 'red.exp' op expected a floating-point element type, got 'i64'
func.func @f(%x: tensor<4xi64>) -> tensor<4xi64> {
  %y = red.exp %x : tensor<4xi64>
  func.return %y : tensor<4xi64>
}
