// A generic op of an unknown dialect; expects 3:8: error: unregistered operation 'foo.bar' found in dialect ('foo') that does not allow unknown operations (use --allow-unregistered-dialect)
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = "foo.bar"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
