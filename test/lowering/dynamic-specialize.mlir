// RUN: red-opt %s -p convert-red-to-loops --split-input-file | filecheck %s
// RUN: red-opt %s -p 'convert-red-to-loops{specialize-units=false}' --split-input-file | filecheck %s --check-prefix=OFF

// The unit-size specialization (lowering/loops/specialize.py): a public function with `?`
// dims is also lowered at every symbol = 1 as a private static function, which its sized
// entry calls on views of its buffers once the sizes passed their checks.

// After the checks, n = 1 calls @__red_rows_unit on the buffers viewed with static shapes;
// any other n runs the generic body.
// CHECK-LABEL: func.func @red_rows(%x: memref<?xf32>, %x_d0: i64, %b: memref<4xf32>, %res0: memref<?xf32>) -> i32
// CHECK:         %[[N:.*]] = arith.index_cast %x_d0 : i64 to index
// CHECK:         %[[OK:.*]] = arith.cmpi sge, %[[N]], %{{.*}} : index
// CHECK:         cf.cond_br %[[OK]], ^[[DISPATCH:.*]], ^[[FAIL:.*]]
// CHECK:       ^[[DISPATCH]]:
// CHECK:         %[[ONE:.*]] = arith.cmpi eq, %[[N]], %{{.*}} : index
// CHECK:         cf.cond_br %[[ONE]], ^[[UNIT:.*]], ^[[BODY:.*]]
// CHECK:       ^[[UNIT]]:
// CHECK:         %[[XF:.*]] = "memref.cast"(%x) : (memref<?xf32>) -> memref<4xf32>
// CHECK:         %[[XV:.*]] = memref.reinterpret_cast %[[XF]] to offset: [0], sizes: [1, 4], strides: [4, 1] : memref<4xf32> to memref<1x4xf32>
// CHECK:         %[[RF:.*]] = "memref.cast"(%res0) : (memref<?xf32>) -> memref<4xf32>
// CHECK:         %[[RV:.*]] = memref.reinterpret_cast %[[RF]] to offset: [0], sizes: [1, 4], strides: [4, 1] : memref<4xf32> to memref<1x4xf32>
// CHECK:         func.call @__red_rows_unit(%[[XV]], %b, %[[RV]]) : (memref<1x4xf32>, memref<4xf32>, memref<1x4xf32>) -> ()
// CHECK:         func.return %{{.*}} : i32
// CHECK:       ^[[BODY]]:
// CHECK:         scf.for %{{.*}} = %{{.*}} to %[[N]] step
// CHECK:         func.return %{{.*}} : i32
// CHECK:       ^[[FAIL]]:
// CHECK-NEXT:    func.return %{{.*}} : i32
// The unit dim gets no loop: index 0.
// CHECK-LABEL: func.func private @__red_rows_unit(%x: memref<1x4xf32>, %b: memref<4xf32>, %res0: memref<1x4xf32>) attributes {red.noinline}
// CHECK:         %[[ZERO:.*]] = arith.constant 0 : index
// CHECK:         scf.for %[[J:.*]] = %[[ZERO]] to
// CHECK-NEXT:      memref.load %x[%[[ZERO]], %[[J]]] : memref<1x4xf32>
// CHECK:           memref.store %{{.*}}, %res0[%[[ZERO]], %[[J]]] : memref<1x4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return

// OFF-LABEL:   func.func @red_rows(
// OFF-NOT:       @__red_rows_unit
// OFF:           func.return
func.func @rows(%x: tensor<?x4xf32> {red.dims = ["n", ""]}, %b: tensor<4xf32>) -> tensor<?x4xf32> {
  %s = red.add %x, %b : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  func.return %s : tensor<?x4xf32>
}

// -----

// Two symbols: the specialization runs when both are 1.
// CHECK-LABEL: func.func @red_two_symbols(%a: memref<?xf32>, %a_d0: i64, %a_d1: i64, %b: memref<?xf32>, %b_d0: i64, %res0: memref<?xf32>) -> i32
// CHECK:         %[[M:.*]] = arith.index_cast %a_d0 : i64 to index
// CHECK:         %[[K:.*]] = arith.index_cast %a_d1 : i64 to index
// CHECK:         cf.cond_br %{{.*}}, ^[[DISPATCH:.*]], ^{{.*}}
// CHECK:       ^[[DISPATCH]]:
// CHECK-DAG:     %[[K1:.*]] = arith.cmpi eq, %[[K]], %[[C1:.*]] : index
// CHECK-DAG:     %[[M1:.*]] = arith.cmpi eq, %[[M]], %[[C1]] : index
// CHECK:         %[[BOTH:.*]] = arith.andi %[[K1]], %[[M1]] : i1
// CHECK:         cf.cond_br %[[BOTH]], ^[[UNIT:.*]], ^{{.*}}
// CHECK:       ^[[UNIT]]:
// CHECK:         func.call @__red_two_symbols_unit(%{{.*}}, %{{.*}}, %{{.*}}) : (memref<1x1xf32>, memref<1x3xf32>, memref<1x3xf32>) -> ()
// CHECK-LABEL: func.func private @__red_two_symbols_unit(%a: memref<1x1xf32>, %b: memref<1x3xf32>, %res0: memref<1x3xf32>)
func.func @two_symbols(%a: tensor<?x?xf32> {red.dims = ["m", "k"]}, %b: tensor<?x3xf32> {red.dims = ["k", ""]}) -> tensor<?x3xf32> {
  %y = red.matmul %a, %b : tensor<?x?xf32>, tensor<?x3xf32> -> tensor<?x3xf32>
  func.return %y : tensor<?x3xf32>
}

// -----

// A static function has one body: nothing to specialize.
// CHECK-LABEL: func.func @red_no_static(%x: memref<2x4xf32>, %res0: memref<2x4xf32>)
// CHECK-NOT:     _unit
// CHECK:         func.return
// CHECK-NOT:   func.func private @__red_no_static_unit
func.func @no_static(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %s = red.add %x, %x : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  func.return %s : tensor<2x4xf32>
}

// -----

// A loop that grows a tensor: its carried `?` dim is no polynomial in `n` (the analysis
// takes the initial value's), so the clone at n = 1 does not verify and the function keeps
// one body.
// CHECK-LABEL: func.func @red_no_growing_loop(
// CHECK-NOT:     @__red_no_growing_loop_unit
// CHECK:         func.return
// CHECK-NOT:   func.func private @__red_no_growing_loop_unit
func.func @no_growing_loop(%x: tensor<?xf32> {red.dims = ["n"]}) -> tensor<?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %r = scf.for %i = %c0 to %c2 step %c1 iter_args(%acc = %x) -> (tensor<?xf32>) {
    %g = red.concat %acc, %x axis = 0 : tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
    scf.yield %g : tensor<?xf32>
  }
  func.return %r : tensor<?xf32>
}
