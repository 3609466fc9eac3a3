// A resource blob that is not hex; expects 9:13: error: dense resource blob 'blob' holds a malformed hex string
func.func @f() -> tensor<2xf32> {
  %c = red.constant dense_resource<blob> : tensor<2xf32>
  func.return %c : tensor<2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      blob: "0x04000000ZZ00803F"
    }
  }
#-}
