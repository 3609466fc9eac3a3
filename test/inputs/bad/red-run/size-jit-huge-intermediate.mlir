// An op whose result needs 80 GB, under the JIT (compiled code would crash on the failed allocation); expects 3:1: error: '@main' needs 74.5 GiB of intermediate tensors at its peak, more than the 2.0 GiB this process may allocate
// ARGS: {input} --engine jit --random --output-dir {results}
func.func @main(%x: tensor<4xf32>) -> tensor<i64> {
  %big = red.iota dim = 0 : tensor<100000x100000xi64>
  %s = red.reduce_sum %big axes = [0, 1] : tensor<100000x100000xi64> -> tensor<i64>
  func.return %s : tensor<i64>
}
