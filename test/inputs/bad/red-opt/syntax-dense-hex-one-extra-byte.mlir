// Five raw bytes for one f32 (xDSL read them as one element); expects 3:27: error: dense literal of type 'tensor<1xf32>' needs 4 bytes (1 x 4), or 4 for a splat; got 5
func.func @f() -> tensor<1xf32> {
  %c = red.constant dense<"0x0000803F00"> : tensor<1xf32>
  func.return %c : tensor<1xf32>
}
