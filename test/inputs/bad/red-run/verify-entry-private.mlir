// A private @main as the entry; expects 2:1: error: entry function '@main' is private: red-run calls public functions only
func.func private @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  func.return %x : tensor<4xf32>
}
