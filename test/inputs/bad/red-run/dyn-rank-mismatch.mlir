// A rank-3 array for a rank-2 argument with a symbolic dim; expects 4:1: error: argument #0 (%a) of '@main' expects 'tensor<?x4xf32>', got an array of shape 3x4x1 and dtype float32
// ARGS: {input} --engine interp --inputs a.npy a.npy --output-dir {results}
// NPY: a.npy=float32:3x4x1
func.func @main(%a: tensor<?x4xf32> {red.dims = ["seq", ""]}, %b: tensor<?x4xf32> {red.dims = ["seq", ""]}) -> tensor<?x4xf32> {
  %s = red.add %a, %b : tensor<?x4xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  func.return %s : tensor<?x4xf32>
}
