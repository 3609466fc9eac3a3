// Raw dense bytes that are not hex; expects 3:27: error: dense literal holds a malformed hex string
func.func @f() -> tensor<2xf32> {
  %c = red.constant dense<"0xZZZZ"> : tensor<2xf32>
  func.return %c : tensor<2xf32>
}
