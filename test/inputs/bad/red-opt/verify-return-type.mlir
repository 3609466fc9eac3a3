// A return whose type differs from the signature; expects 3:3: error: 'func.return' op Expected arguments to have the same types as the function output types: expected [tensor<4xi32>], got [tensor<4xf32>]
func.func @f(%x: tensor<4xf32>) -> tensor<4xi32> {
  func.return %x : tensor<4xf32>
}
