// RUN: red-opt %s -p convert-red-to-loops --split-input-file | filecheck %s

// The call rule of convert-red-to-loops (lowering/loops/calls.py) and the signatures it
// relies on: a function takes its arguments' buffers, then one buffer per result, and
// returns nothing (destination-passing style, the C ABI of DESIGN.md §4).

// A call passes buffers for its arguments and results: a result the caller returns is its
// own result buffer, another gets a buffer freed after its last use. A public callee is
// called by its C name (@red_public_neg); a private one keeps its name and visibility.
// CHECK-LABEL: func.func @red_caller
// CHECK-SAME:    (%[[X:.*]]: memref<2x3xf32>, %[[RES0:.*]]: memref<2x3xf32>, %[[RES1:.*]]: memref<3xf32>) {
// CHECK-NEXT:    %[[A:.*]] = memref.alloc() : memref<2x3xf32>
// CHECK-NEXT:    func.call @pair(%[[X]], %[[A]], %[[RES1]]) : (memref<2x3xf32>, memref<2x3xf32>, memref<3xf32>) -> ()
// CHECK-NEXT:    func.call @red_public_neg(%[[A]], %[[RES0]]) : (memref<2x3xf32>, memref<2x3xf32>) -> ()
// CHECK-NEXT:    memref.dealloc %[[A]] : memref<2x3xf32>
// CHECK-NEXT:    func.return
// CHECK-LABEL: func.func private @pair
// CHECK-SAME:    (%[[PX:.*]]: memref<2x3xf32>, %[[PRES0:.*]]: memref<2x3xf32>, %[[PRES1:.*]]: memref<3xf32>) {
// CHECK:         memref.store %{{.*}}, %[[PRES0]]
// CHECK:         memref.store %{{.*}}, %[[PRES1]]
// CHECK:         func.return
// CHECK-LABEL: func.func @red_public_neg
// CHECK-SAME:    (%[[NX:.*]]: memref<2x3xf32>, %[[NRES:.*]]: memref<2x3xf32>) {
func.func @caller(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>) {
  %a, %b = func.call @pair(%x) : (tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>)
  %n = func.call @public_neg(%a) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return %n, %b : tensor<2x3xf32>, tensor<3xf32>
}
func.func private @pair(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>) {
  %e = red.exp %x : tensor<2x3xf32>
  %s = red.reduce_sum %x axes = [0] : tensor<2x3xf32> -> tensor<3xf32>
  func.return %e, %s : tensor<2x3xf32>, tensor<3xf32>
}
func.func @public_neg(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %n = red.neg %x : tensor<2x3xf32>
  func.return %n : tensor<2x3xf32>
}

// -----

// A call's operand that is a fused elementwise value is computed into a buffer first.
// CHECK-LABEL: func.func @red_call_on_fused
// CHECK-SAME:    (%[[X:.*]]: memref<4xf32>, %[[RES:.*]]: memref<4xf32>) {
// CHECK:         %[[E:.*]] = memref.alloc() : memref<4xf32>
// CHECK:         math.exp
// CHECK-NEXT:    memref.store %{{.*}}, %[[E]]
// CHECK:         func.call @id(%[[E]], %[[RES]]) : (memref<4xf32>, memref<4xf32>) -> ()
// CHECK-NEXT:    memref.dealloc %[[E]] : memref<4xf32>
func.func @call_on_fused(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = red.exp %x : tensor<4xf32>
  %r = func.call @id(%e) : (tensor<4xf32>) -> tensor<4xf32>
  func.return %r : tensor<4xf32>
}
func.func private @id(%x: tensor<4xf32>) -> tensor<4xf32> {
  func.return %x : tensor<4xf32>
}
