// RUN: red-opt %s -p red-lower --split-input-file | filecheck %s
// RUN: red-opt %s --split-input-file -p convert-red-to-loops,outline-loop-nests,merge-identical-functions | filecheck %s --check-prefix=LOOPS

// The pass by name, at the loop level: one private nest function, called on both inputs.
// LOOPS-LABEL: func.func @red_main
// LOOPS-SAME:    (%[[A:.*]]: memref<8x8xf32>, %[[B:.*]]: memref<8x8xf32>,
// LOOPS:         func.call @[[NEST:__red_red_main_nest[0-9]+]](%[[A]], %{{.*}})
// LOOPS:         func.call @[[NEST]](%[[B]], %{{.*}})
// LOOPS-COUNT-1: func.func private @[[NEST]](

// red-lower runs merge-identical-functions after outline-loop-nests: the two nests that
// compute tanh(exp(x) * x) over different buffers become one function called twice.
// CHECK-LABEL: llvm.func @red_main
// CHECK-SAME:    (%[[A:.*]]: !llvm.ptr, %[[B:.*]]: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK:         llvm.call @[[NEST:__red_red_main_nest[0-9]+]](%[[A]], %{{.*}}) :
// CHECK:         llvm.call @[[NEST]](%[[B]], %{{.*}}) :
// CHECK:         llvm.call @[[ADD:__red_red_main_nest[0-9]+]](
// CHECK:         llvm.return
// CHECK-DAG:   llvm.func internal @[[NEST]](
// CHECK-DAG:   llvm.func internal @[[ADD]](
// CHECK-NOT:   llvm.func internal
// CHECK:       llvm.func @red_memo_reset
func.func @main(%a: tensor<8x8xf32>, %b: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %e = red.exp %a : tensor<8x8xf32>
  %m = red.mul %e, %a : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
  %t = red.tanh %m : tensor<8x8xf32>
  %s = red.softmax %t axis = 1 : tensor<8x8xf32>
  %e2 = red.exp %b : tensor<8x8xf32>
  %m2 = red.mul %e2, %b : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
  %t2 = red.tanh %m2 : tensor<8x8xf32>
  %s2 = red.softmax %t2 axis = 1 : tensor<8x8xf32>
  %r = red.add %s, %s2 : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
  func.return %r : tensor<8x8xf32>
}

// -----

// Nests that differ in one op (sigmoid, not tanh) or in a shape stay apart.
// CHECK-LABEL: llvm.func @red_no_merge_of_different_nests
// CHECK:         llvm.call @[[N0:__red_red_no_merge_of_different_nests_nest[0-9]+]](
// CHECK:         llvm.call @[[N1:__red_red_no_merge_of_different_nests_nest[0-9]+]](
// CHECK:         llvm.call @[[N2:__red_red_no_merge_of_different_nests_nest[0-9]+]](
// CHECK:         llvm.return
// CHECK-DAG:   llvm.func internal @[[N0]](
// CHECK-DAG:   llvm.func internal @[[N1]](
// CHECK-DAG:   llvm.func internal @[[N2]](
func.func @no_merge_of_different_nests(%a: tensor<8x8xf32>, %b: tensor<8x8xf32>, %c: tensor<4x8xf32>) -> (tensor<8x8xf32>, tensor<8x8xf32>, tensor<4x8xf32>) {
  %e = red.exp %a : tensor<8x8xf32>
  %m = red.mul %e, %a : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
  %t = red.tanh %m : tensor<8x8xf32>
  %e2 = red.exp %b : tensor<8x8xf32>
  %m2 = red.mul %e2, %b : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
  %t2 = red.sigmoid %m2 : tensor<8x8xf32>
  %e3 = red.exp %c : tensor<4x8xf32>
  %m3 = red.mul %e3, %c : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %t3 = red.tanh %m3 : tensor<4x8xf32>
  func.return %t, %t2, %t3 : tensor<8x8xf32>, tensor<8x8xf32>, tensor<4x8xf32>
}
