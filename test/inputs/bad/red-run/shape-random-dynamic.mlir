// --random for an argument of dynamic shape; expects error: argument #0 has a dynamic shape 'tensor<?xf32>': pass --inputs
func.func @main(%x: tensor<?xf32>) -> tensor<?xf32> {
  func.return %x : tensor<?xf32>
}
