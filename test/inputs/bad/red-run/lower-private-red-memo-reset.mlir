// A private function named red_memo_reset beside a memo, under the JIT; expects 3:1: error: '@red_memo_reset' lowers to '@red_memo_reset', which is also the memo reset function the lowering exports
// ARGS: {input} --engine jit --random --output-dir {results}
func.func private @red_memo_reset() {
  func.return
}
func.func @main(%x: tensor<4x4xf32>, %w: tensor<4x4xf32> {red.invariant}) -> tensor<4x4xf32> {
  %t = red.memo(%w) : (tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%a: tensor<4x4xf32>):
    %u = red.transpose %a [1, 0] : tensor<4x4xf32> -> tensor<4x4xf32>
    red.yield %u : tensor<4x4xf32>
  }
  func.call @red_memo_reset() : () -> ()
  %y = red.matmul %x, %t : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  func.return %y : tensor<4x4xf32>
}
