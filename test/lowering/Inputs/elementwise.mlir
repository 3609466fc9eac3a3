// A memo, a constant, a softmax and a fused elementwise chain, and no matmul: a small module
// whose loop-level form red-lower.mlir sends through the rest of red-lower.
func.func @main(%x: tensor<2x4xf32>, %w: tensor<4xf32> {red.invariant}) -> tensor<2x4xf32> {
  %n = red.memo(%w) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %e = red.exp %a : tensor<4xf32>
    red.yield %e : tensor<4xf32>
  }
  %c = red.constant dense<[1.0, -2.0, 0.5, 4.0]> : tensor<4xf32>
  %s = red.softmax %x axis = 1 : tensor<2x4xf32>
  %m = red.mul %s, %n : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
  %r = red.add %m, %c : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
  func.return %r : tensor<2x4xf32>
}
