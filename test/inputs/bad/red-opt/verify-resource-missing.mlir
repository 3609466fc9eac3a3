// A dense resource whose blob is not in the file; expects 3:3: error: 'red.constant' op dense resource 'nowhere' has no data: no blob 'nowhere' in the dialect_resources
func.func @f() -> tensor<4xf32> {
  %c = red.constant dense_resource<nowhere> : tensor<4xf32>
  func.return %c : tensor<4xf32>
}
