// A resource blob whose alignment is not a power of two; expects 9:13: error: dense resource blob 'blob' has alignment 3 in its header: expected a power of two
func.func @f() -> tensor<1xf32> {
  %c = red.constant dense_resource<blob> : tensor<1xf32>
  func.return %c : tensor<1xf32>
}
{-#
  dialect_resources: {
    builtin: {
      blob: "0x030000000000803F"
    }
  }
#-}
