// The last position of an empty sequence (seq = 0, the model takes row seq - 1); expects 12:3: error: 'red.dynamic_slice' op failed at run time: 
// ARGS: {input} --engine interp --inputs ids.npy w.npy --output-dir {results}
// NPY: ids.npy=int64:1x0 w.npy=float32:8x8
func.func @main(%ids: tensor<1x?xi64> {red.dims = ["", "seq"]}, %w: tensor<8x8xf32>) -> tensor<1x8xf32> {
  %r = red.reshape %ids : tensor<1x?xi64> -> tensor<?xi64>
  %x = red.gather %w, %r axis = 0 : tensor<8x8xf32>, tensor<?xi64> -> tensor<?x8xf32>
  %h = red.matmul %x, %w : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %s = tensor.dim %h, %c0 : tensor<?x8xf32>
  %sm1 = arith.subi %s, %c1 : index
  %last = red.dynamic_slice %h [%sm1, %c0] sizes = [1, 8] : (tensor<?x8xf32>, index, index) -> tensor<1x8xf32>
  func.return %last : tensor<1x8xf32>
}
