// A dense resource holding too few bytes; expects 3:3: error: 'red.constant' op dense resource 'w' holds 4 bytes of data, its type 'tensor<2xf32>' needs 8
func.func @f() -> tensor<2xf32> {
  %c = red.constant dense_resource<w> : tensor<2xf32>
  func.return %c : tensor<2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F"
    }
  }
#-}
