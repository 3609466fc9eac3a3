// A call to a function the module does not define; expects 3:3: error: 'func.call' op '@nowhere' could not be found in symbol table
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = func.call @nowhere(%x) : (tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
