// A function named like a generated constant global; expects 2:1: error: '@__red_constant_0' lowers to '@__red_constant_0', which is also a global the lowering adds
func.func private @__red_constant_0() {
  func.return
}
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = red.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %y = red.add %x, %c : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.call @__red_constant_0() : () -> ()
  func.return %y : tensor<4xf32>
}
