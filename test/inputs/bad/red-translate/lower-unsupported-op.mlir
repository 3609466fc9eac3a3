// An op the lowering has no rule for; expects 3:3: error: 'tensor.empty' op is not supported by the lowering
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = "tensor.empty"() : () -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
