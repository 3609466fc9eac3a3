// The maximum over a symbolic axis given 0 elements (no identity); expects 5:3: error: 'red.reduce_max' op failed at run time: reduce_max over an empty axis has no identity
// ARGS: {input} --engine interp --inputs x.npy --output-dir {results}
// NPY: x.npy=float32:1x0
func.func @main(%x: tensor<1x?xf32> {red.dims = ["", "seq"]}) -> tensor<1xf32> {
  %m = red.reduce_max %x axes = [1] : tensor<1x?xf32> -> tensor<1xf32>
  func.return %m : tensor<1xf32>
}
