// A private @main as the entry of the JIT; expects 3:1: error: entry function '@main' is private: red-run calls public functions only
// ARGS: {input} --engine jit --random
func.func private @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  func.return %x : tensor<4xf32>
}
