// A .npy whose header declares 40 GB and holds 4 bytes (numpy would allocate first); expects error: could not read input 'liar.npy': its header declares an array of shape 100000x100000 and dtype float32 (37.3 GiB), but the file holds 4 bytes of data
// ARGS: {input} --engine interp --inputs liar.npy ids.npy --output-dir {results}
// NPY: liar.npy=liar:<f4:100000x100000 ids.npy=int64:4
func.func @main(%x: tensor<2x3xf32>, %ids: tensor<4xi64>) -> tensor<2x3xf32> {
  %y = red.neg %x : tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}
