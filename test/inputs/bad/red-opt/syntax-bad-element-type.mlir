// A tensor of an undefined element type; expects 2:27: error: Expected shape type.
func.func @f(%x: tensor<2xfoo>) -> tensor<2xfoo> {
  func.return %x : tensor<2xfoo>
}
