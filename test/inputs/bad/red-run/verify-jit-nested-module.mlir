// A nested module under the JIT; expects 4:3: error: 'builtin.module' op nested modules are not supported: red-run --engine jit lowers the functions at the top level of the module
// ARGS: {input} --engine jit --random --output-dir {results}
builtin.module {
  builtin.module {
  }
  func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
    func.return %x : tensor<4xf32>
  }
}
