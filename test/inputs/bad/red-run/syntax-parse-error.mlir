// A parse error in the module; expects 3:8: error: custom op 'red.nope' is unknown
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = red.nope %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
