// --random for a 40 GB argument; expects 2:1: error: the arguments of '@main' are too large to draw with --random: 37.3 GiB
func.func @main(%x: tensor<100000x100000xf32>) -> tensor<100000x100000xf32> {
  func.return %x : tensor<100000x100000xf32>
}
