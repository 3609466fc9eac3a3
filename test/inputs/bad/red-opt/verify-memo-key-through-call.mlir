// A call passing a computed value where the callee's red.memo keys on it (compiled memos key on addresses: stale results); expects 13:3: error: 'func.call' op operand #1 keys a red.memo of '@h': it must be a 'red.invariant' argument of the public function the call is in (a computed value can change behind the same address, and the memo would return stale results)
func.func @h(%x: tensor<4x8xf32>, %w: tensor<8x8xf32> {red.invariant}) -> tensor<4x8xf32> {
  %wt = red.memo(%w) : (tensor<8x8xf32>) -> tensor<8x8xf32> {
  ^bb0(%a: tensor<8x8xf32>):
    %t = red.transpose %a [1, 0] : tensor<8x8xf32> -> tensor<8x8xf32>
    red.yield %t : tensor<8x8xf32>
  }
  %y = red.matmul %x, %wt : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  func.return %y : tensor<4x8xf32>
}
func.func @main(%x: tensor<4x8xf32>, %w: tensor<8x8xf32> {red.invariant}, %v: tensor<8x8xf32>) -> tensor<4x8xf32> {
  %s = red.mul %w, %v : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
  %r = func.call @h(%x, %s) : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  func.return %r : tensor<4x8xf32>
}
