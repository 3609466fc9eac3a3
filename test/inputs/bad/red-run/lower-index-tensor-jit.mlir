// A tensor of index elements under the JIT; expects 3:1: error: '@main' has tensors of 'index' elements, which the C ABI has no type for (use i64) ('tensor<4xindex>')
// ARGS: {input} --engine jit --random --output-dir {results}
func.func @main(%x: tensor<4xindex>) -> tensor<4xindex> {
  %y = red.add %x, %x : tensor<4xindex>, tensor<4xindex> -> tensor<4xindex>
  func.return %y : tensor<4xindex>
}
