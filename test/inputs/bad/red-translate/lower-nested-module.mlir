// A module nested in the module; expects 3:3: error: 'builtin.module' op nested modules are not supported: red-translate lowers the functions at the top level of the module
builtin.module {
  builtin.module {
    func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
      func.return %x : tensor<4xf32>
    }
  }
}
