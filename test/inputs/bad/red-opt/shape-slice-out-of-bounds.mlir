// A slice past the end of its input; expects 3:3: error: 'red.slice' op slice [2, 6) of dimension 0 is out of bounds for size 4 (expected 0 <= start <= limit <= size)
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %s = red.slice %x [2] [6] [1] : tensor<4xf32> -> tensor<4xf32>
  func.return %s : tensor<4xf32>
}
