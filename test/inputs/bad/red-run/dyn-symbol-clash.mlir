// Two arguments naming dim 0 'seq' get 3 and 5 rows; expects 4:1: error: argument #1 (%b) of '@main': dim 0 is 'seq' = 5, but argument #0 (%a) gave 'seq' = 3
// ARGS: {input} --engine interp --inputs a.npy b.npy --output-dir {results}
// NPY: a.npy=float32:3x4 b.npy=float32:5x4
func.func @main(%a: tensor<?x4xf32> {red.dims = ["seq", ""]}, %b: tensor<?x4xf32> {red.dims = ["seq", ""]}) -> tensor<?x4xf32> {
  %s = red.add %a, %b : tensor<?x4xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  func.return %s : tensor<?x4xf32>
}
