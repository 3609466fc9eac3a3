// red-export input: scf.while has no ONNX equivalent (an error at the loop).
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = scf.while (%a = %x) : (tensor<4xf32>) -> tensor<4xf32> {
    %f = arith.constant false
    scf.condition(%f) %a : tensor<4xf32>
  } do {
  ^bb0(%b: tensor<4xf32>):
    scf.yield %b : tensor<4xf32>
  }
  func.return %r : tensor<4xf32>
}
