// Both --inputs and --random; expects error: argument --random: not allowed with argument --inputs
// ARGS: {input} --engine interp --inputs x.npy ids.npy --random
// NPY: x.npy=float32:2x3 ids.npy=int64:4 x64.npy=float64:2x3 x32t.npy=float32:3x2 junk.npy=text:not-numpy trunc.npy=truncated:float32:2x3 obj.npy=object:6 hdr.npy=badheader: scalar.npy=float32:
func.func @main(%x: tensor<2x3xf32>, %ids: tensor<4xi64>) -> tensor<2x3xf32> {
  %y = red.neg %x : tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}
