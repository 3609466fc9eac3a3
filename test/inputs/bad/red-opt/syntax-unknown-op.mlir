// An op no registered dialect defines; expects 3:8: error: custom op 'red.frobnicate' is unknown
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.frobnicate %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
