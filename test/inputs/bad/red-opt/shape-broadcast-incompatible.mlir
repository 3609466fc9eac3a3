// An elementwise op on shapes that do not broadcast; expects 3:3: error: 'red.add' op operand shapes 2x3 and 4 do not broadcast
func.func @f(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  %c = red.add %a, %b : tensor<2x3xf32>, tensor<4xf32> -> tensor<2x3xf32>
  func.return %c : tensor<2x3xf32>
}
