// RUN: red-opt %s -p convert-red-to-loops --split-input-file | filecheck %s

// The control-flow rules of convert-red-to-loops (lowering/loops/control_flow.py) and the
// dynamic slices (lowering/loops/shape.py): a tensor carried by scf.for is one buffer for
// the whole loop; a dynamic_update_slice of a carried value that dies there writes that
// buffer in place; one whose old value is read afterwards writes a copy.

// The carried buffer is the returned result's: the argument is copied into it once, and
// each iteration writes one row into it in place (offsets clamped into [0, 3]).
// CHECK-LABEL: func.func @red_for_update_in_place
// CHECK-SAME:    (%[[X:.*]]: memref<4x2xf32>, %[[ROW:.*]]: memref<1x2xf32>, %[[RES:.*]]: memref<4x2xf32>)
// CHECK-DAG:     %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG:     %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG:     %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK:         %[[V:.*]] = memref.load %[[X]]
// CHECK-NEXT:    memref.store %[[V]], %[[RES]]
// CHECK:         scf.for %[[I:.*]] = %[[C0]] to %[[C4]] step %[[C1]] {
// CHECK-NOT:       memref.alloc
// CHECK:           %[[LOW:.*]] = arith.cmpi slt, %[[I]], %[[C0]] : index
// CHECK-NEXT:      %[[AT_LEAST_0:.*]] = arith.select %[[LOW]], %[[C0]], %[[I]] : index
// CHECK-NEXT:      %[[HIGH:.*]] = arith.cmpi sgt, %[[AT_LEAST_0]], %[[C3]] : index
// CHECK-NEXT:      %[[START:.*]] = arith.select %[[HIGH]], %[[C3]], %[[AT_LEAST_0]] : index
// CHECK-NOT:       memref.alloc
// CHECK:           %[[R:.*]] = arith.addi %[[START]], %{{.*}} : index
// CHECK:           %[[U:.*]] = memref.load %[[ROW]]
// CHECK-NEXT:      memref.store %[[U]], %[[RES]][%[[R]], %{{.*}}] : memref<4x2xf32>
// CHECK-NOT:     memref.alloc
// CHECK:         func.return
func.func @for_update_in_place(%x: tensor<4x2xf32>, %row: tensor<1x2xf32>) -> tensor<4x2xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %x) -> (tensor<4x2xf32>) {
    %u = red.dynamic_update_slice %acc, %row[%i, %c0] : (tensor<4x2xf32>, tensor<1x2xf32>, index, index) -> tensor<4x2xf32>
    scf.yield %u : tensor<4x2xf32>
  }
  func.return %r : tensor<4x2xf32>
}

// -----

// The old value is read after the update: the update writes a copy, the sum is copied back
// into the carried buffer at the end of the iteration, and the temporaries are freed.
// CHECK-LABEL: func.func @red_no_update_in_place_of_a_value_read_later
// CHECK-SAME:    (%[[X:.*]]: memref<4x2xf32>, %[[ROW:.*]]: memref<1x2xf32>, %[[RES:.*]]: memref<4x2xf32>)
// CHECK:         scf.for
// CHECK:           %[[COPY:.*]] = memref.alloc() : memref<4x2xf32>
// CHECK:             %[[OLD:.*]] = memref.load %[[RES]]
// CHECK-NEXT:        memref.store %[[OLD]], %[[COPY]]
// CHECK:             %[[U:.*]] = memref.load %[[ROW]]
// CHECK-NEXT:        memref.store %[[U]], %[[COPY]]
// CHECK:           %[[SUM:.*]] = memref.alloc() : memref<4x2xf32>
// CHECK:             %[[A:.*]] = memref.load %[[COPY]]
// CHECK-NEXT:        %[[B:.*]] = memref.load %[[RES]]
// CHECK-NEXT:        %[[S:.*]] = arith.addf %[[A]], %[[B]] : f32
// CHECK-NEXT:        memref.store %[[S]], %[[SUM]]
// CHECK:           memref.dealloc %[[COPY]]
// CHECK:             %[[NEXT:.*]] = memref.load %[[SUM]]
// CHECK-NEXT:        memref.store %[[NEXT]], %[[RES]]
// CHECK:           memref.dealloc %[[SUM]]
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return
func.func @no_update_in_place_of_a_value_read_later(%x: tensor<4x2xf32>, %row: tensor<1x2xf32>) -> tensor<4x2xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %x) -> (tensor<4x2xf32>) {
    %u = red.dynamic_update_slice %acc, %row[%i, %c0] : (tensor<4x2xf32>, tensor<1x2xf32>, index, index) -> tensor<4x2xf32>
    %s = red.add %u, %acc : tensor<4x2xf32>, tensor<4x2xf32> -> tensor<4x2xf32>
    scf.yield %s : tensor<4x2xf32>
  }
  func.return %r : tensor<4x2xf32>
}

// -----

// The initial value dies at the loop: the loop takes its buffer over (no copy), and the
// buffer is freed after the loop result's last use.
// CHECK-LABEL: func.func @red_for_takes_over_a_dead_initial_value
// CHECK:         %[[E:.*]] = memref.alloc() : memref<4x2xf32>
// CHECK:           math.exp
// CHECK-NEXT:      memref.store %{{.*}}, %[[E]]
// CHECK-NOT:     memref.alloc
// CHECK:         scf.for
// CHECK:             memref.store %{{.*}}, %[[E]]
// CHECK:             %[[R:.*]] = memref.load %[[E]]
// CHECK-NEXT:        arith.negf %[[R]] : f32
// CHECK:         memref.dealloc %[[E]]
// CHECK-NEXT:    func.return
func.func @for_takes_over_a_dead_initial_value(%x: tensor<4x2xf32>, %row: tensor<1x2xf32>) -> tensor<4x2xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %e = red.exp %x : tensor<4x2xf32>
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %e) -> (tensor<4x2xf32>) {
    %u = red.dynamic_update_slice %acc, %row[%i, %c0] : (tensor<4x2xf32>, tensor<1x2xf32>, index, index) -> tensor<4x2xf32>
    scf.yield %u : tensor<4x2xf32>
  }
  %n = red.neg %r : tensor<4x2xf32>
  func.return %n : tensor<4x2xf32>
}

// -----

// The initial value is read after the loop (two uses): the loop copies it into a buffer of
// its own, and the sum reads both.
// CHECK-LABEL: func.func @red_no_take_over_of_a_live_initial_value
// CHECK:         %[[E:.*]] = memref.alloc() : memref<4x2xf32>
// CHECK:         %[[CARRIED:.*]] = memref.alloc() : memref<4x2xf32>
// CHECK:             %[[V:.*]] = memref.load %[[E]]
// CHECK-NEXT:        memref.store %[[V]], %[[CARRIED]]
// CHECK:         scf.for
// CHECK:             memref.store %{{.*}}, %[[CARRIED]]
// CHECK:             %[[A:.*]] = memref.load %[[CARRIED]]
// CHECK-NEXT:        %[[B:.*]] = memref.load %[[E]]
// CHECK-NEXT:        arith.addf %[[A]], %[[B]] : f32
// CHECK:         memref.dealloc %[[E]]
// CHECK-NEXT:    memref.dealloc %[[CARRIED]]
func.func @no_take_over_of_a_live_initial_value(%x: tensor<4x2xf32>, %row: tensor<1x2xf32>) -> tensor<4x2xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %e = red.exp %x : tensor<4x2xf32>
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %e) -> (tensor<4x2xf32>) {
    %u = red.dynamic_update_slice %acc, %row[%i, %c0] : (tensor<4x2xf32>, tensor<1x2xf32>, index, index) -> tensor<4x2xf32>
    scf.yield %u : tensor<4x2xf32>
  }
  %s = red.add %r, %e : tensor<4x2xf32>, tensor<4x2xf32> -> tensor<4x2xf32>
  func.return %s : tensor<4x2xf32>
}

// -----

// Carried values that swap go through temporaries (a direct copy would overwrite one
// before it is read); the trip count is an index argument, passed by value.
// CHECK-LABEL: func.func @red_for_swap
// CHECK-SAME:    (%[[A:.*]]: memref<2xf32>, %[[B:.*]]: memref<2xf32>, %[[N:.*]]: index, %[[RES0:.*]]: memref<2xf32>, %[[RES1:.*]]: memref<2xf32>)
// CHECK:         scf.for %{{.*}} = %{{.*}} to %[[N]] step
// CHECK-NEXT:      %[[T0:.*]] = memref.alloc() : memref<2xf32>
// CHECK:             memref.load %[[RES1]]
// CHECK:           %[[T1:.*]] = memref.alloc() : memref<2xf32>
// CHECK:             memref.load %[[RES0]]
// CHECK:             %[[V0:.*]] = memref.load %[[T0]]
// CHECK-NEXT:        memref.store %[[V0]], %[[RES0]]
// CHECK:           memref.dealloc %[[T0]]
// CHECK:             %[[V1:.*]] = memref.load %[[T1]]
// CHECK-NEXT:        memref.store %[[V1]], %[[RES1]]
// CHECK:           memref.dealloc %[[T1]]
func.func @for_swap(%a: tensor<2xf32>, %b: tensor<2xf32>, %n: index) -> (tensor<2xf32>, tensor<2xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r:2 = scf.for %i = %c0 to %n step %c1 iter_args(%p = %a, %q = %b) -> (tensor<2xf32>, tensor<2xf32>) {
    scf.yield %q, %p : tensor<2xf32>, tensor<2xf32>
  }
  func.return %r#0, %r#1 : tensor<2xf32>, tensor<2xf32>
}

// -----

// A scalar carried beside a tensor stays an scf iter_arg of the lowered loop.
// CHECK-LABEL: func.func @red_for_carries_an_index
// CHECK:         %[[K:.*]] = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C1:.*]] iter_args(%[[KI:.*]] = %{{.*}}) -> (index) {
// CHECK:           %[[NEXT:.*]] = arith.addi %[[KI]], %[[C1]] : index
// CHECK-NEXT:      scf.yield %[[NEXT]] : index
func.func @for_carries_an_index(%x: tensor<4xi64>) -> tensor<4xi64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r:2 = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %x, %k = %c0) -> (tensor<4xi64>, index) {
    %one = red.constant dense<1> : tensor<1xi64>
    %u = red.dynamic_update_slice %acc, %one[%k] : (tensor<4xi64>, tensor<1xi64>, index) -> tensor<4xi64>
    %k2 = arith.addi %k, %c1 : index
    scf.yield %u, %k2 : tensor<4xi64>, index
  }
  func.return %r#0 : tensor<4xi64>
}

// -----

// scf.if with a tensor result: each branch writes it straight into the result buffer (a
// value from outside the branch is copied).
// CHECK-LABEL: func.func @red_if_tensor_result
// CHECK-SAME:    (%[[X:.*]]: memref<3xf32>, %[[FLAG:.*]]: i1, %[[RES:.*]]: memref<3xf32>)
// CHECK-NEXT:    %{{.*}} = arith.constant
// CHECK:         scf.if %[[FLAG]] {
// CHECK:             %[[E:.*]] = math.exp
// CHECK-NEXT:        memref.store %[[E]], %[[RES]]
// CHECK:         } else {
// CHECK:             %[[V:.*]] = memref.load %[[X]]
// CHECK-NEXT:        memref.store %[[V]], %[[RES]]
// CHECK-NOT:     memref.alloc
func.func @if_tensor_result(%x: tensor<3xf32>, %flag: i1) -> tensor<3xf32> {
  %r = scf.if %flag -> (tensor<3xf32>) {
    %e = red.exp %x : tensor<3xf32>
    scf.yield %e : tensor<3xf32>
  } else {
    scf.yield %x : tensor<3xf32>
  }
  func.return %r : tensor<3xf32>
}

// -----

// dynamic_slice reads at the clamped offset inside its consumer's loops (fused, no buffer);
// an i64 offset is cast to index; a whole axis starts at 0.
// CHECK-LABEL: func.func @red_dynamic_slice_fuses
// CHECK-SAME:    (%[[X:.*]]: memref<8x4xf32>, %[[I:.*]]: i64, %[[RES:.*]]: memref<2x4xf32>)
// CHECK-DAG:     %[[C6:.*]] = arith.constant 6 : index
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK-NOT:     memref.alloc
// CHECK:         scf.for %[[R:.*]] = %[[C0]]
// CHECK-NEXT:      scf.for %[[C:.*]] = %[[C0]]
// CHECK-NEXT:        %[[O:.*]] = arith.index_cast %[[I]] : i64 to index
// CHECK-NEXT:        %[[LOW:.*]] = arith.cmpi slt, %[[O]], %[[C0]] : index
// CHECK-NEXT:        %[[L:.*]] = arith.select %[[LOW]], %[[C0]], %[[O]] : index
// CHECK-NEXT:        %[[HIGH:.*]] = arith.cmpi sgt, %[[L]], %[[C6]] : index
// CHECK-NEXT:        %[[START:.*]] = arith.select %[[HIGH]], %[[C6]], %[[L]] : index
// CHECK-NEXT:        %[[ROW:.*]] = arith.addi %[[START]], %[[R]] : index
// CHECK-NEXT:        %[[COL:.*]] = arith.addi %[[C0]], %[[C]] : index
// CHECK-NEXT:        %[[V:.*]] = memref.load %[[X]][%[[ROW]], %[[COL]]] : memref<8x4xf32>
// CHECK-NEXT:        %[[E:.*]] = math.exp %[[V]] : f32
// CHECK-NEXT:        memref.store %[[E]], %[[RES]][%[[R]], %[[C]]] : memref<2x4xf32>
func.func @dynamic_slice_fuses(%x: tensor<8x4xf32>, %i: i64) -> tensor<2x4xf32> {
  %c0 = arith.constant 0 : index
  %s = red.dynamic_slice %x[%i, %c0] sizes = [2, 4] : (tensor<8x4xf32>, i64, index) -> tensor<2x4xf32>
  %e = red.exp %s : tensor<2x4xf32>
  func.return %e : tensor<2x4xf32>
}

// -----

// A dynamic_update_slice of an argument outside a loop writes a copy (arguments are never
// written): the returned result's buffer.
// CHECK-LABEL: func.func @red_no_update_in_place_of_an_argument
// CHECK-SAME:    (%[[X:.*]]: memref<4xf32>, %[[U:.*]]: memref<2xf32>, %[[I:.*]]: index, %[[RES:.*]]: memref<4xf32>)
// CHECK:           %[[V:.*]] = memref.load %[[X]]
// CHECK-NEXT:      memref.store %[[V]], %[[RES]]
// CHECK:           %[[W:.*]] = memref.load %[[U]]
// CHECK-NEXT:      memref.store %[[W]], %[[RES]]
// CHECK-NOT:     memref.store %{{.*}}, %[[X]]
func.func @no_update_in_place_of_an_argument(%x: tensor<4xf32>, %u: tensor<2xf32>, %i: index) -> tensor<4xf32> {
  %r = red.dynamic_update_slice %x, %u[%i] : (tensor<4xf32>, tensor<2xf32>, index) -> tensor<4xf32>
  func.return %r : tensor<4xf32>
}
