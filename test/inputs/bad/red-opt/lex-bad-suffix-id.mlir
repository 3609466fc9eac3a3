// An SSA name with a character names cannot hold; expects 3:5: error: Expected suffix identifier after '#'
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y# = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
