// A 2^40-element splat returned as another type (the splat is never expanded); expects 4:3: error: 'func.return' op Expected arguments to have the same types as the function output types: expected [tensor<4xf32>], got [tensor<1048576x1048576xf32>]
func.func @f() -> tensor<4xf32> {
  %c = red.constant dense<1.0> : tensor<1048576x1048576xf32>
  func.return %c : tensor<1048576x1048576xf32>
}
