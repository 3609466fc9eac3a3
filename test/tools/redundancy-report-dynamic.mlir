// The report of a function with a dynamic dim gives costs as polynomials in its symbol,
// and evaluates them with --assume; a bad --assume is a flag error.
// RUN: red-opt %s -p red-pipeline --redundancy-report -o /dev/null 2>&1 | filecheck %s --check-prefix=SYMBOLIC
// RUN: red-opt %s -p red-pipeline --redundancy-report=json --assume seq=128 -o /dev/null 2>&1 | filecheck %s --check-prefix=ASSUMED
// RUN: not red-opt %s --assume seq=many 2>&1 | filecheck %s --check-prefix=BAD

// Only the last position's logits are used: one row is computed, whatever the length.
// SYMBOLIC:      @main
// SYMBOLIC:        FLOPs (first call)   928*seq + 1 ->        929
// SYMBOLIC:        unused-rows{{.*}}saving 928*seq - 928 FLOPs
// ASSUMED:         "before": {
// ASSUMED:           "flops": 118785,
// ASSUMED-NEXT:      "flops_symbolic": "928*seq + 1",
// ASSUMED:         "after": {
// ASSUMED:           "flops": 929,
// BAD: error: --assume: expected NAME=SIZE, got 'seq=many'
func.func @main(%ids: tensor<1x?xi64> {red.dims = ["", "seq"]}, %wte: tensor<50x8xf32> {red.invariant}, %w: tensor<8x8xf32>) -> tensor<1x50xf32> {
  %r = red.reshape %ids : tensor<1x?xi64> -> tensor<?xi64>
  %x = red.gather %wte, %r axis = 0 : tensor<50x8xf32>, tensor<?xi64> -> tensor<?x8xf32>
  %h = red.matmul %x, %w : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32>
  %t = red.transpose %wte [1, 0] : tensor<50x8xf32> -> tensor<8x50xf32>
  %l = red.matmul %h, %t : tensor<?x8xf32>, tensor<8x50xf32> -> tensor<?x50xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %s = tensor.dim %l, %c0 : tensor<?x50xf32>
  %sm1 = arith.subi %s, %c1 : index
  %last = red.dynamic_slice %l [%sm1, %c0] sizes = [1, 50] : (tensor<?x50xf32>, index, index) -> tensor<1x50xf32>
  func.return %last : tensor<1x50xf32>
}
