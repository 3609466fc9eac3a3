// --split-input-file: a chunk using a blob only an earlier chunk defines (chunks are separate files); expects 16:3: error: 'red.constant' op dense resource 'blob' has no data: no blob 'blob' in the dialect_resources
// ARGS: {input} --split-input-file -o {out}
func.func @f() -> tensor<2xf32> {
  %c = red.constant dense_resource<blob> : tensor<2xf32>
  func.return %c : tensor<2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      blob: "0x040000000000803F0000803F"
    }
  }
#-}
// -----
func.func @g() -> tensor<2xf32> {
  %c = red.constant dense_resource<blob> : tensor<2xf32>
  func.return %c : tensor<2xf32>
}
