// -o naming the input of a run that fails verification: the input survives; expects 4:3: error: 'red.matmul' op contracting dimensions differ: lhs has 3, rhs has 4
// ARGS: {input} -o {input}
func.func @f(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  %c = red.matmul %a, %b : tensor<2x3xf32>, tensor<4x5xf32> -> tensor<2x5xf32>
  func.return %c : tensor<2x5xf32>
}
