// A tensor of index elements; expects 3:1: error: 
// XFAIL: lowering: tensors of index elements reach xDSL's LLVM translation (Type not supported: index)
func.func @f(%x: tensor<4xindex>) -> tensor<4xindex> {
  %y = red.add %x, %x : tensor<4xindex>, tensor<4xindex> -> tensor<4xindex>
  func.return %y : tensor<4xindex>
}
