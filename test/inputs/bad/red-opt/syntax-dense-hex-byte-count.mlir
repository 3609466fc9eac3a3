// Raw dense bytes that fill neither the type nor one element; expects 3:27: error: dense literal of type 'tensor<2xf32>' needs 8 bytes (2 x 4), or 4 for a splat; got 9
func.func @f() -> tensor<2xf32> {
  %c = red.constant dense<"0x0000803F0000803F00"> : tensor<2xf32>
  func.return %c : tensor<2xf32>
}
