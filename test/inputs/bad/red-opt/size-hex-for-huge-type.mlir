// Raw bytes for a type of 2^40 elements; expects 3:27: error: dense literal of type 'tensor<1048576x1048576xf32>' needs 4398046511104 bytes (1099511627776 x 4), or 4 for a splat; got 8
func.func @f() -> tensor<1048576x1048576xf32> {
  %c = red.constant dense<"0x0000803F0000803F"> : tensor<1048576x1048576xf32>
  func.return %c : tensor<1048576x1048576xf32>
}
