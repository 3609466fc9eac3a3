// RUN: red-opt %s -p convert-red-to-loops --split-input-file | filecheck %s

// The shape rules of convert-red-to-loops (lowering/loops/shape.py): transpose, slice,
// broadcast_to and gather read their input at another index (so they fuse like
// elementwise ops); reshape is a view; concat writes each input at its offset.

// transpose reads input[j, i] at result index (i, j).
// CHECK-LABEL: func.func @red_transpose
// CHECK-SAME:    (%[[A:.*]]: memref<4x6xf32>, %[[RES:.*]]: memref<6x4xf32>) {
// CHECK:         scf.for %[[I:.*]] = {{.*}} {
// CHECK-NEXT:      scf.for %[[J:.*]] = {{.*}} {
// CHECK-NEXT:        %[[X:.*]] = memref.load %[[A]][%[[J]], %[[I]]] : memref<4x6xf32>
// CHECK-NEXT:        memref.store %[[X]], %[[RES]][%[[I]], %[[J]]] : memref<6x4xf32>
func.func @transpose(%a: tensor<4x6xf32>) -> tensor<6x4xf32> {
  %t = red.transpose %a [1, 0] : tensor<4x6xf32> -> tensor<6x4xf32>
  func.return %t : tensor<6x4xf32>
}

// -----

// slice reads input[start + i·stride] (a unit stride and a zero start add nothing).
// CHECK-LABEL: func.func @red_slice
// CHECK-SAME:    (%[[A:.*]]: memref<6x4xf32>, %[[RES:.*]]: memref<3x4xf32>) {
// CHECK-DAG:     %[[TWO:.*]] = arith.constant 2 : index
// CHECK-DAG:     %[[ONE:.*]] = arith.constant 1 : index
// CHECK:         scf.for %[[I:.*]] = {{.*}} {
// CHECK-NEXT:      scf.for %[[J:.*]] = {{.*}} {
// CHECK-NEXT:        %[[SCALED:.*]] = arith.muli %[[I]], %[[TWO]] : index
// CHECK-NEXT:        %[[ROW:.*]] = arith.addi %[[SCALED]], %[[ONE]] : index
// CHECK-NEXT:        %[[X:.*]] = memref.load %[[A]][%[[ROW]], %[[J]]] : memref<6x4xf32>
// CHECK-NEXT:        memref.store %[[X]], %[[RES]][%[[I]], %[[J]]] : memref<3x4xf32>
func.func @slice(%a: tensor<6x4xf32>) -> tensor<3x4xf32> {
  %s = red.slice %a [1, 0] [6, 4] [2, 1] : tensor<6x4xf32> -> tensor<3x4xf32>
  func.return %s : tensor<3x4xf32>
}

// -----

// broadcast_to: leading dims are not indexed, size-1 dims read index 0.
// CHECK-LABEL: func.func @red_broadcast_to
// CHECK-SAME:    (%[[A:.*]]: memref<3x1xf32>, %[[RES:.*]]: memref<2x3x4xf32>) {
// CHECK:         %[[ZERO:.*]] = arith.constant 0 : index
// CHECK:         scf.for %[[I:.*]] = {{.*}} {
// CHECK-NEXT:      scf.for %[[J:.*]] = {{.*}} {
// CHECK-NEXT:        scf.for %[[K:.*]] = {{.*}} {
// CHECK-NEXT:          %[[X:.*]] = memref.load %[[A]][%[[J]], %[[ZERO]]] : memref<3x1xf32>
// CHECK-NEXT:          memref.store %[[X]], %[[RES]][%[[I]], %[[J]], %[[K]]] : memref<2x3x4xf32>
func.func @broadcast_to(%a: tensor<3x1xf32>) -> tensor<2x3x4xf32> {
  %b = red.broadcast_to %a : tensor<3x1xf32> -> tensor<2x3x4xf32>
  func.return %b : tensor<2x3x4xf32>
}

// -----

// gather reads the row its id names: a negative id counts from the end (numpy.take), and
// an id still out of [0, 5) is clamped, so a bad id cannot read out of bounds.
// CHECK-LABEL: func.func @red_gather
// CHECK-SAME:    (%[[TABLE:.*]]: memref<5x4xf32>, %[[IDS:.*]]: memref<3xi64>, %[[RES:.*]]: memref<3x4xf32>) {
// CHECK-DAG:     %[[N:.*]] = arith.constant 5 : index
// CHECK-DAG:     %[[LAST:.*]] = arith.constant 4 : index
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0 : index
// CHECK:         scf.for %[[I:.*]] = {{.*}} {
// CHECK-NEXT:      scf.for %[[J:.*]] = {{.*}} {
// CHECK-NEXT:        %[[ID:.*]] = memref.load %[[IDS]][%[[I]]] : memref<3xi64>
// CHECK-NEXT:        %[[X:.*]] = arith.index_cast %[[ID]] : i64 to index
// CHECK-NEXT:        %[[NEG:.*]] = arith.cmpi slt, %[[X]], %[[ZERO]] : index
// CHECK-NEXT:        %[[WRAP:.*]] = arith.addi %[[X]], %[[N]] : index
// CHECK-NEXT:        %[[W:.*]] = arith.select %[[NEG]], %[[WRAP]], %[[X]] : index
// CHECK-NEXT:        %[[LOW:.*]] = arith.cmpi slt, %[[W]], %[[ZERO]] : index
// CHECK-NEXT:        %[[L:.*]] = arith.select %[[LOW]], %[[ZERO]], %[[W]] : index
// CHECK-NEXT:        %[[HIGH:.*]] = arith.cmpi sgt, %[[L]], %[[LAST]] : index
// CHECK-NEXT:        %[[ROW:.*]] = arith.select %[[HIGH]], %[[LAST]], %[[L]] : index
// CHECK-NEXT:        %[[V:.*]] = memref.load %[[TABLE]][%[[ROW]], %[[J]]] : memref<5x4xf32>
// CHECK-NEXT:        memref.store %[[V]], %[[RES]][%[[I]], %[[J]]] : memref<3x4xf32>
func.func @gather(%table: tensor<5x4xf32>, %ids: tensor<3xi64>) -> tensor<3x4xf32> {
  %g = red.gather %table, %ids axis = 0 : tensor<5x4xf32>, tensor<3xi64> -> tensor<3x4xf32>
  func.return %g : tensor<3x4xf32>
}

// -----

// Shape ops of equal shape fuse: a transpose read by an exp is computed in the exp's loops.
// CHECK-LABEL: func.func @red_transpose_fused
// CHECK-SAME:    (%[[A:.*]]: memref<4x4xf32>, %[[RES:.*]]: memref<4x4xf32>) {
// CHECK-NOT:     memref.alloc
// CHECK:         scf.for %[[I:.*]] = {{.*}} {
// CHECK-NEXT:      scf.for %[[J:.*]] = {{.*}} {
// CHECK-NEXT:        %[[X:.*]] = memref.load %[[A]][%[[J]], %[[I]]] : memref<4x4xf32>
// CHECK-NEXT:        %[[E:.*]] = math.exp %[[X]] : f32
// CHECK-NEXT:        memref.store %[[E]], %[[RES]][%[[I]], %[[J]]] : memref<4x4xf32>
func.func @transpose_fused(%a: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %t = red.transpose %a [1, 0] : tensor<4x4xf32> -> tensor<4x4xf32>
  %e = red.exp %t : tensor<4x4xf32>
  func.return %e : tensor<4x4xf32>
}

// -----

// Ops of different shapes do not fuse: the transpose gets a buffer, freed after the slice
// that reads it.
// CHECK-LABEL: func.func @red_no_fusion_across_shapes
// CHECK-SAME:    (%[[A:.*]]: memref<4x6xf32>, %[[RES:.*]]: memref<3x2xf32>) {
// CHECK:         %[[T:.*]] = memref.alloc() : memref<6x4xf32>
// CHECK:         memref.store %{{.*}}, %[[T]][%{{.*}}, %{{.*}}] : memref<6x4xf32>
// CHECK:         memref.load %[[T]]
// CHECK:         memref.store %{{.*}}, %[[RES]]
// CHECK:         memref.dealloc %[[T]] : memref<6x4xf32>
// CHECK-NEXT:    func.return
func.func @no_fusion_across_shapes(%a: tensor<4x6xf32>) -> tensor<3x2xf32> {
  %t = red.transpose %a [1, 0] : tensor<4x6xf32> -> tensor<6x4xf32>
  %s = red.slice %t [1, 0] [6, 4] [2, 2] : tensor<6x4xf32> -> tensor<3x2xf32>
  func.return %s : tensor<3x2xf32>
}

// -----

// concat copies each input into its part of the result (the second at row offset 2).
// CHECK-LABEL: func.func @red_concat
// CHECK-SAME:    (%[[A:.*]]: memref<2x3xf32>, %[[B:.*]]: memref<1x3xf32>, %[[RES:.*]]: memref<3x3xf32>) {
// CHECK-DAG:     %[[OFFSET:.*]] = arith.constant 2 : index
// CHECK:         scf.for %[[I:.*]] = {{.*}} {
// CHECK-NEXT:      scf.for %[[J:.*]] = {{.*}} {
// CHECK-NEXT:        %[[X:.*]] = memref.load %[[A]][%[[I]], %[[J]]] : memref<2x3xf32>
// CHECK-NEXT:        memref.store %[[X]], %[[RES]][%[[I]], %[[J]]] : memref<3x3xf32>
// CHECK:         scf.for %[[K:.*]] = {{.*}} {
// CHECK-NEXT:      scf.for %[[L:.*]] = {{.*}} {
// CHECK-NEXT:        %[[ROW:.*]] = arith.addi %[[K]], %[[OFFSET]] : index
// CHECK-NEXT:        %[[Y:.*]] = memref.load %[[B]][%[[K]], %[[L]]] : memref<1x3xf32>
// CHECK-NEXT:        memref.store %[[Y]], %[[RES]][%[[ROW]], %[[L]]] : memref<3x3xf32>
func.func @concat(%a: tensor<2x3xf32>, %b: tensor<1x3xf32>) -> tensor<3x3xf32> {
  %c = red.concat %a, %b axis = 0 : tensor<2x3xf32>, tensor<1x3xf32> -> tensor<3x3xf32>
  func.return %c : tensor<3x3xf32>
}

// -----

// reshape is a row-major view of its input's buffer; a returned view of an argument is
// copied into the result buffer (it cannot be written in place).
// CHECK-LABEL: func.func @red_reshape_returned
// CHECK-SAME:    (%[[A:.*]]: memref<2x6xf32>, %[[RES:.*]]: memref<3x4xf32>) {
// CHECK:         %[[V:.*]] = memref.reinterpret_cast %[[A]] to offset: [0], sizes: [3, 4], strides: [4, 1] : memref<2x6xf32> to memref<3x4xf32>
// CHECK:         scf.for %[[I:.*]] = {{.*}} {
// CHECK-NEXT:      scf.for %[[J:.*]] = {{.*}} {
// CHECK-NEXT:        %[[X:.*]] = memref.load %[[V]][%[[I]], %[[J]]] : memref<3x4xf32>
// CHECK-NEXT:        memref.store %[[X]], %[[RES]][%[[I]], %[[J]]] : memref<3x4xf32>
func.func @reshape_returned(%a: tensor<2x6xf32>) -> tensor<3x4xf32> {
  %r = red.reshape %a : tensor<2x6xf32> -> tensor<3x4xf32>
  func.return %r : tensor<3x4xf32>
}

// -----

// A returned reshape of a value an op computes: the op writes straight into the result
// buffer, viewed at its own shape (no buffer, no copy loop after it).
// CHECK-LABEL: func.func @red_reshape_of_matmul_returned
// CHECK-SAME:    (%[[A:.*]]: memref<1x4x3xf32>, %[[B:.*]]: memref<3x5xf32>, %[[RES:.*]]: memref<1x4x5xf32>) {
// CHECK:         %[[DEST:.*]] = memref.reinterpret_cast %[[RES]] to offset: [0], sizes: [4, 5], strides: [5, 1] : memref<1x4x5xf32> to memref<4x5xf32>
// CHECK-NOT:     memref.alloc
// CHECK:         %[[C:.*]] = builtin.unrealized_conversion_cast %[[DEST]] : memref<4x5xf32> to !llvm.ptr
// CHECK:         func.call @red_sgemm({{.*}}, %[[C]], {{.*}})
// CHECK-NOT:     scf.for
// CHECK:         func.return
func.func @reshape_of_matmul_returned(%a: tensor<1x4x3xf32>, %b: tensor<3x5xf32>) -> tensor<1x4x5xf32> {
  %r = red.reshape %a : tensor<1x4x3xf32> -> tensor<4x3xf32>
  %m = red.matmul %r, %b : tensor<4x3xf32>, tensor<3x5xf32> -> tensor<4x5xf32>
  %o = red.reshape %m : tensor<4x5xf32> -> tensor<1x4x5xf32>
  func.return %o : tensor<1x4x5xf32>
}

// -----

// Through a chain of reshapes: exp writes the result buffer viewed as 2x6.
// CHECK-LABEL: func.func @red_reshape_chain_returned
// CHECK-SAME:    (%[[A:.*]]: memref<2x6xf32>, %[[RES:.*]]: memref<3x4xf32>) {
// CHECK:         %[[DEST:.*]] = memref.reinterpret_cast %[[RES]] to offset: [0], sizes: [2, 6], strides: [6, 1] : memref<3x4xf32> to memref<2x6xf32>
// CHECK-NOT:     memref.alloc
// CHECK:         math.exp
// CHECK-NEXT:    memref.store %{{.*}}, %[[DEST]][%{{.*}}, %{{.*}}] : memref<2x6xf32>
// CHECK-NOT:     memref.load
// CHECK:         func.return
func.func @reshape_chain_returned(%a: tensor<2x6xf32>) -> tensor<3x4xf32> {
  %e = red.exp %a : tensor<2x6xf32>
  %r = red.reshape %e : tensor<2x6xf32> -> tensor<12xf32>
  %s = red.reshape %r : tensor<12xf32> -> tensor<3x4xf32>
  func.return %s : tensor<3x4xf32>
}

// -----

// The value is also returned itself, first: it takes its own result buffer and the reshape
// is copied from it.
// CHECK-LABEL: func.func @red_source_returned_too
// CHECK-SAME:    (%[[A:.*]]: memref<2x6xf32>, %[[RES0:.*]]: memref<2x6xf32>, %[[RES1:.*]]: memref<3x4xf32>) {
// CHECK:         math.exp
// CHECK-NEXT:    memref.store %{{.*}}, %[[RES0]][%{{.*}}, %{{.*}}] : memref<2x6xf32>
// CHECK:         %[[V:.*]] = memref.reinterpret_cast %[[RES0]] to offset: [0], sizes: [3, 4], strides: [4, 1] : memref<2x6xf32> to memref<3x4xf32>
// CHECK:         %[[X:.*]] = memref.load %[[V]][%{{.*}}, %{{.*}}] : memref<3x4xf32>
// CHECK-NEXT:    memref.store %[[X]], %[[RES1]][%{{.*}}, %{{.*}}] : memref<3x4xf32>
func.func @source_returned_too(%a: tensor<2x6xf32>) -> (tensor<2x6xf32>, tensor<3x4xf32>) {
  %e = red.exp %a : tensor<2x6xf32>
  %r = red.reshape %e : tensor<2x6xf32> -> tensor<3x4xf32>
  func.return %e, %r : tensor<2x6xf32>, tensor<3x4xf32>
}
