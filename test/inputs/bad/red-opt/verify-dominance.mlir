// A value used before its definition in the same block; expects 3:3: error: 'red.neg' op operand #0 does not dominate this use
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = red.neg %b : tensor<4xf32>
  %b = red.exp %x : tensor<4xf32>
  func.return %a : tensor<4xf32>
}
