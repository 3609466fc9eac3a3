// A public @memo_reset, whose C name red_memo_reset the memo reset function takes; expects 2:1: error: '@memo_reset' lowers to '@red_memo_reset', which is also the memo reset function the lowering exports
func.func @memo_reset(%x: tensor<4xf32>) -> tensor<4xf32> {
  func.return %x : tensor<4xf32>
}
func.func @main(%x: tensor<4x4xf32>, %w: tensor<4x4xf32> {red.invariant}) -> tensor<4x4xf32> {
  %t = red.memo(%w) : (tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%a: tensor<4x4xf32>):
    %u = red.transpose %a [1, 0] : tensor<4x4xf32> -> tensor<4x4xf32>
    red.yield %u : tensor<4x4xf32>
  }
  %y = red.matmul %x, %t : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  func.return %y : tensor<4x4xf32>
}
