// A .npy file cut short; expects error: could not read input 'trunc.npy': its header declares an array of shape 2x3 and dtype float32 (24 bytes), but the file holds 21 bytes of data
// ARGS: {input} --engine interp --inputs trunc.npy ids.npy --output-dir {results}
// NPY: x.npy=float32:2x3 ids.npy=int64:4 x64.npy=float64:2x3 x32t.npy=float32:3x2 junk.npy=text:not-numpy trunc.npy=truncated:float32:2x3 obj.npy=object:6 hdr.npy=badheader: scalar.npy=float32:
func.func @main(%x: tensor<2x3xf32>, %ids: tensor<4xi64>) -> tensor<2x3xf32> {
  %y = red.neg %x : tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}
