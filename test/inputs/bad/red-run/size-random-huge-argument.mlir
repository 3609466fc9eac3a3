// --random for a 40 GB argument; expects 2:1: error: the arguments of '@main' are too large to draw with --random: 37.3 GiB for 'tensor<100000x100000xf32>', more than the 2.0 GiB this process may allocate
func.func @main(%x: tensor<100000x100000xf32>) -> tensor<100000x100000xf32> {
  func.return %x : tensor<100000x100000xf32>
}
