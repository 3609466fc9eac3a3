// red.invariant on a non-unit value; expects 2:1: error: 'func.func' op 
func.func @f(%x: tensor<4xf32> {red.invariant = 3 : i64}) -> tensor<4xf32> {
  func.return %x : tensor<4xf32>
}
