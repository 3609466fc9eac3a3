// A resource blob shorter than its alignment header; expects 9:13: error: dense resource blob 'blob' is 2 bytes long: expected a 4-byte alignment header before the data
func.func @f() -> tensor<2xf32> {
  %c = red.constant dense_resource<blob> : tensor<2xf32>
  func.return %c : tensor<2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      blob: "0x0400"
    }
  }
#-}
