// A tensor of index elements under the JIT; expects 4:1: error: 
// XFAIL: lowering: tensors of index elements reach xDSL's LLVM translation (Type not supported: index)
// ARGS: {input} --engine jit --random --output-dir {results}
func.func @main(%x: tensor<4xindex>) -> tensor<4xindex> {
  %y = red.add %x, %x : tensor<4xindex>, tensor<4xindex> -> tensor<4xindex>
  func.return %y : tensor<4xindex>
}
