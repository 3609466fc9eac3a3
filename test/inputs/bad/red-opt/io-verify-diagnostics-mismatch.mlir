// --verify-diagnostics with an expectation that is not met; expects 4:6: error: expected error "this message is never produced" was not produced
// ARGS: {input} --verify-diagnostics -o {out}
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{this message is never produced}}
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
