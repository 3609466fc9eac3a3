// A gather whose index is out of range, at run time; expects 5:3: error: 'red.gather' op failed at run time: 
// ARGS: {input} --engine interp --inputs t.npy i.npy --output-dir {results}
// NPY: t.npy=float32:2x2 i.npy=int64:3
func.func @main(%t: tensor<2x2xf32>, %i: tensor<3xi64>) -> tensor<3x2xf32> {
  %g = red.gather %t, %i axis = 0 : tensor<2x2xf32>, tensor<3xi64> -> tensor<3x2xf32>
  func.return %g : tensor<3x2xf32>
}
