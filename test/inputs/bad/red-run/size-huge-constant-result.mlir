// A splat constant of 2^40 elements returned from a function; expects 4:3: error: 'red.constant' op 
// XFAIL: lowering: the splat is expanded to 4 TiB (out of memory) instead of a located error
func.func @f() -> tensor<1048576x1048576xf32> {
  %c = red.constant dense<1.0> : tensor<1048576x1048576xf32>
  func.return %c : tensor<1048576x1048576xf32>
}
