// Casts through bf16 under the JIT (was an internal error: LLVMTranslationException); expects 5:3: error: 'red.cast' op on 'bf16' is not supported by the lowering
// ARGS: {input} --engine jit --random --output-dir {results}
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %b = red.cast %x : tensor<4xf32> -> tensor<4xbf16>
  %c = red.cast %b : tensor<4xbf16> -> tensor<4xf32>
  func.return %c : tensor<4xf32>
}
