// A dense resource with fewer bytes than its type needs; expects 3:3: error: 'red.constant' op dense resource 'blob' holds 4 bytes of data, its type 'tensor<4xf32>' needs 16
func.func @f() -> tensor<4xf32> {
  %c = red.constant dense_resource<blob> : tensor<4xf32>
  func.return %c : tensor<4xf32>
}
{-#
  dialect_resources: {
    builtin: {
      blob: "0x040000000000803F"
    }
  }
#-}
