// RUN: red-opt %s -p convert-red-to-loops,outline-loop-nests --split-input-file | filecheck %s
// RUN: red-opt %s -p red-lower --split-input-file | filecheck %s --check-prefix=LLVM

// Each top-level loop nest becomes a private noinline function of the buffers it reads and
// writes, called in its place; the constants it needs are cloned in, not passed.
// CHECK-LABEL: func.func @red_main
// CHECK-SAME:    (%[[A:.*]]: memref<8x8xf32>, %[[RES:.*]]: memref<8x8xf32>)
// CHECK:         %[[T:.*]] = memref.alloc() : memref<8x8xf32>
// CHECK-NEXT:    func.call @[[N0:__red_red_main_nest0]](%[[A]], %[[T]]) : (memref<8x8xf32>, memref<8x8xf32>) -> ()
// CHECK-NEXT:    func.call @[[N1:__red_red_main_nest1]](%[[T]], %[[RES]]) : (memref<8x8xf32>, memref<8x8xf32>) -> ()
// CHECK-NEXT:    memref.dealloc %[[T]]
// CHECK-NOT:     scf.for
// CHECK:         func.return
// CHECK:       func.func private @[[N1]]({{.*}}) attributes {red.noinline} {
// CHECK:         arith.constant 0xff800000 : f32
// CHECK:         scf.for
// CHECK:       func.func private @[[N0]]({{.*}}) attributes {red.noinline} {
// CHECK:         math.tanh
// LLVM-LABEL: llvm.func @red_main
// LLVM:         llvm.call @__red_red_main_nest0(
func.func @main(%a: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %e = red.exp %a : tensor<8x8xf32>
  %t = red.tanh %e : tensor<8x8xf32>
  %s = red.softmax %t axis = 0 : tensor<8x8xf32>
  func.return %s : tensor<8x8xf32>
}

// -----

// A nest of fewer ops than min-ops (8) stays where it is.
// CHECK-LABEL: func.func @red_no_outline_of_a_small_nest
// CHECK:         scf.for
// CHECK-NOT:     func.call
// CHECK-NOT:     func.func private
func.func @no_outline_of_a_small_nest(%a: tensor<4xf32>) -> tensor<4xf32> {
  %n = red.neg %a : tensor<4xf32>
  func.return %n : tensor<4xf32>
}
