// --split-input-file whose second chunk fails: the existing -o file keeps its content; expects 11:3: error: 'red.exp' op expected a floating-point element type, got 'i64'
// ARGS: {input} --split-input-file -o {out}
func.func @first(%a: tensor<4xf32>) -> tensor<4xf32> {
  %b = red.neg %a : tensor<4xf32>
  func.return %b : tensor<4xf32>
}

// -----

func.func @second(%a: tensor<4xi64>) -> tensor<4xi64> {
  %b = red.exp %a : tensor<4xi64>
  func.return %b : tensor<4xi64>
}
