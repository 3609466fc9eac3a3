// red-export input: not valid IR.
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = red.exp %x : tensor<4xf32>
  func.return %e : tensor<5xf32>
}
