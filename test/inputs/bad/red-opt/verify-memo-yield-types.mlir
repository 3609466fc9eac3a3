// A memo whose yield type differs from its result; expects 3:3: error: 'red.memo' op yielded types (tensor<2xf32>) differ from result types (tensor<2x2xf32>)
func.func @f(%w: tensor<2x2xf32> {red.invariant}) -> tensor<2x2xf32> {
  %m = red.memo(%w) : (tensor<2x2xf32>) -> tensor<2x2xf32> {
  ^bb0(%a: tensor<2x2xf32>):
    %e = red.reduce_sum %a axes = [0] : tensor<2x2xf32> -> tensor<2xf32>
    red.yield %e : tensor<2xf32>
  }
  func.return %m : tensor<2x2xf32>
}
