// RUN: red-opt %s -p incrementalize --split-input-file 2>&1 | filecheck %s

// Loops that carry an integer tensor and write it with dynamic_update_slice but run no model
// (what the ONNX importer writes for CumSum or Range over a symbolic length) are not decode
// loops: incrementalize leaves them as they are and says nothing about them.
// CHECK-NOT:   remark
// CHECK-LABEL: func.func @no_running_sum
// CHECK:         %[[R:.*]] = scf.for
// CHECK:           red.dynamic_update_slice
// CHECK:         func.return %[[R]]
// CHECK-NOT:   remark
func.func @no_running_sum(%x: tensor<1x6xi64>) -> tensor<1x6xi64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c6 = arith.constant 6 : index
  %out = scf.for %t = %c1 to %c6 step %c1 iter_args(%acc = %x) -> (tensor<1x6xi64>) {
    %tm1 = arith.subi %t, %c1 : index
    %prev = red.dynamic_slice %acc [%c0, %tm1] sizes = [1, 1] : (tensor<1x6xi64>, index, index) -> tensor<1x1xi64>
    %cur = red.dynamic_slice %acc [%c0, %t] sizes = [1, 1] : (tensor<1x6xi64>, index, index) -> tensor<1x1xi64>
    %sum = red.add %prev, %cur : tensor<1x1xi64>, tensor<1x1xi64> -> tensor<1x1xi64>
    %new = red.dynamic_update_slice %acc, %sum [%c0, %t] : (tensor<1x6xi64>, tensor<1x1xi64>, index, index) -> tensor<1x6xi64>
    scf.yield %new : tensor<1x6xi64>
  }
  func.return %out : tensor<1x6xi64>
}
