// An op whose result needs 80 GB; expects 3:3: error: 'red.iota' op failed at run time: 
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %big = red.iota dim = 0 : tensor<100000x100000xi64>
  %s = red.reduce_sum %big axes = [0, 1] : tensor<100000x100000xi64> -> tensor<i64>
  func.return %x : tensor<4xf32>
}
