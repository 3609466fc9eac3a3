// A function returning a splat of 2^40 elements (red-translate lowers it without expanding it); expects 4:3: error: 'red.constant' op failed at run time: Unable to allocate 4.00 TiB for an array with shape (1048576, 1048576) and data type float32
// ARGS: {input} --entry f --engine interp --random --output-dir {results}
func.func @f() -> tensor<1048576x1048576xf32> {
  %c = red.constant dense<1.0> : tensor<1048576x1048576xf32>
  func.return %c : tensor<1048576x1048576xf32>
}
