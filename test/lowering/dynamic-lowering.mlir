// RUN: red-opt %s -p convert-red-to-loops --split-input-file | filecheck %s

// Functions with `?` dims (lowering/loops/sizes.py): each `?` dim of an argument comes as an
// i64 after its pointer; the entry block binds the symbols and checks the sizes, then
// branches to the body (status 0) or returns 1; a tensor with a `?` dim lives in a flat
// memref<?xT> indexed linearly; red_f_result_shape gives the results' dims.

// CHECK-LABEL: func.func @red_rows_result_shape(%in_dims: memref<?xi64>, %out_dims: memref<?xi64>) -> i32
// CHECK:         %[[N:.*]] = memref.load %in_dims[%{{.*}}] : memref<?xi64>
// CHECK:         %[[NI:.*]] = arith.index_cast %[[N]] : i64 to index
// CHECK:         %[[OK:.*]] = arith.cmpi sge, %[[NI]], %{{.*}} : index
// CHECK:         %[[N64:.*]] = arith.index_cast %[[NI]] : index to i64
// CHECK:         cf.cond_br %[[OK]], ^[[BODY:.*]], ^[[FAIL:.*]]
// CHECK:       ^[[BODY]]:
// CHECK:         memref.store %[[N64]], %out_dims[%{{.*}}] : memref<?xi64>
// CHECK:         memref.store %{{.*}}, %out_dims[%{{.*}}] : memref<?xi64>
// CHECK:         func.return %{{.*}} : i32
// CHECK:       ^[[FAIL]]:
// CHECK:         func.return %{{.*}} : i32
// CHECK-LABEL: func.func @red_rows(%x: memref<?xf32>, %x_d0: i64, %b: memref<4xf32>, %res0: memref<?xf32>) -> i32
// CHECK-DAG:     %[[FOUR:.*]] = arith.constant 4 : index
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0 : index
// CHECK:         %[[ROWS:.*]] = arith.index_cast %x_d0 : i64 to index
// CHECK:         %[[SIZED:.*]] = arith.cmpi sge, %[[ROWS]], %[[ZERO]] : index
// CHECK:         cf.cond_br %[[SIZED]], ^[[BODY:.*]], ^[[FAIL:.*]]
// CHECK:       ^[[BODY]]:
// CHECK:         scf.for %[[I:.*]] = %[[ZERO]] to %[[ROWS]] step
// CHECK:           scf.for %[[J:.*]] = %[[ZERO]] to %[[FOUR]] step
// CHECK:             %[[ROW:.*]] = arith.muli %[[I]], %[[FOUR]] : index
// CHECK:             %[[AT:.*]] = arith.addi %[[ROW]], %[[J]] : index
// CHECK:             %{{.*}} = memref.load %x[%[[AT]]] : memref<?xf32>
// CHECK:             %{{.*}} = memref.load %b[%[[J]]] : memref<4xf32>
// CHECK:             memref.store %{{.*}}, %res0[%{{.*}}] : memref<?xf32>
// CHECK:         func.return %{{.*}} : i32
// CHECK:       ^[[FAIL]]:
// CHECK-NEXT:    func.return %{{.*}} : i32
func.func @rows(%x: tensor<?x4xf32> {red.dims = ["n", ""]}, %b: tensor<4xf32>) -> tensor<?x4xf32> {
  %s = red.add %x, %b : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  func.return %s : tensor<?x4xf32>
}

// -----

// Two arguments with the symbol `n`: the entry checks the second against the first.
// CHECK-LABEL: func.func @red_same_symbol(%a: memref<?xf32>, %a_d0: i64, %b: memref<?xf32>, %b_d0: i64, %res0: memref<?xf32>) -> i32
// CHECK:         %[[A:.*]] = arith.index_cast %a_d0 : i64 to index
// CHECK:         %[[POS:.*]] = arith.cmpi sge, %[[A]], %{{.*}} : index
// CHECK:         %[[B:.*]] = arith.index_cast %b_d0 : i64 to index
// CHECK:         %[[EQ:.*]] = arith.cmpi eq, %[[A]], %[[B]] : index
// CHECK:         %[[OK:.*]] = arith.andi %[[POS]], %[[EQ]] : i1
// CHECK:         cf.cond_br %[[OK]]
func.func @same_symbol(%a: tensor<?xf32> {red.dims = ["n"]}, %b: tensor<?xf32> {red.dims = ["n"]}) -> tensor<?xf32> {
  %s = red.mul %a, %b : tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
  func.return %s : tensor<?xf32>
}

// -----

// A matmul of n rows: the library call takes M at run time (as i64), and its thread count is
// chosen at run time (1 below 2^22 FLOPs: 2*n*16*8 = 256*n); an intermediate of n rows is a
// buffer of 16*n elements, freed after its last use.
// CHECK-LABEL: func.func @red_linear(%x: memref<?xf32>, %x_d0: i64, %w: memref<8x16xf32>, %res0: memref<?xf32>) -> i32
// CHECK:         %[[N:.*]] = arith.index_cast %x_d0 : i64 to index
// CHECK:         %[[COUNT:.*]] = arith.muli %[[N]], %{{.*}} : index
// CHECK:         %[[FLOPS:.*]] = arith.muli %[[N]], %{{.*}} : index
// CHECK:         %[[M:.*]] = arith.index_cast %[[N]] : index to i64
// CHECK:         cf.cond_br
// CHECK:         %[[Y:.*]] = memref.alloc(%[[COUNT]]) : memref<?xf32>
// CHECK:         %[[SMALL:.*]] = arith.cmpi slt, %[[FLOPS]], %{{.*}} : index
// CHECK:         %[[THREADS:.*]] = arith.select %[[SMALL]], %{{.*}}, %{{.*}} : i32
// CHECK:         func.call @red_sgemm(%[[M]], {{.*}}, %[[THREADS]])
// CHECK:         func.call @red_softmax_f32(%[[M]],
// CHECK:         memref.dealloc %[[Y]] : memref<?xf32>
func.func @linear(%x: tensor<?x8xf32> {red.dims = ["n", ""]}, %w: tensor<8x16xf32>) -> tensor<?x16xf32> {
  %y = red.matmul %x, %w : tensor<?x8xf32>, tensor<8x16xf32> -> tensor<?x16xf32>
  %p = red.softmax %y axis = 1 : tensor<?x16xf32>
  func.return %p : tensor<?x16xf32>
}

// -----

// A reshape between flat buffers is the same buffer: `?x12 -> ?` reads %x at the linear
// index of the merged dim, whose size 12*n is computed once in the entry block.
// CHECK-LABEL: func.func @red_merge(%x: memref<?xf32>, %x_d0: i64, %res0: memref<?xf32>) -> i32
// CHECK:         %[[N:.*]] = arith.index_cast %x_d0 : i64 to index
// CHECK:         %[[ALL:.*]] = arith.muli %[[N]], %{{.*}} : index
// CHECK:         cf.cond_br
// CHECK:         scf.for %[[I:.*]] = %{{.*}} to %[[ALL]] step
// CHECK-NEXT:      %[[V:.*]] = memref.load %x[%[[I]]] : memref<?xf32>
// CHECK-NEXT:      %[[E:.*]] = math.exp %[[V]] : f32
// CHECK-NEXT:      memref.store %[[E]], %res0[%[[I]]] : memref<?xf32>
func.func @merge(%x: tensor<?x12xf32> {red.dims = ["n", ""]}) -> tensor<?xf32> {
  %r = red.reshape %x : tensor<?x12xf32> -> tensor<?xf32>
  %e = red.exp %r : tensor<?xf32>
  func.return %e : tensor<?xf32>
}

// -----

// A static function keeps the static ABI: no sizes, no status, no result-shape function.
// CHECK-NOT:   result_shape
// CHECK-LABEL: func.func @red_no_sizes_static(%x: memref<2x4xf32>, %res0: memref<2x4xf32>) {
// CHECK-NOT:   i64
// CHECK:         func.return{{$}}
func.func @no_sizes_static(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %e = red.exp %x : tensor<2x4xf32>
  func.return %e : tensor<2x4xf32>
}

// -----

// An operand of `n` rows against a result of `m` (two symbols): the entry checks that n is m
// or 1, and the read chooses at run time between row i and row 0 (a broadcast).
// CHECK-LABEL: func.func @red_broadcast(%a: memref<?xf32>, %a_d0: i64, %b: memref<?xf32>, %b_d0: i64, %res0: memref<?xf32>) -> i32
// CHECK-DAG:     %[[ONE:.*]] = arith.constant 1 : index
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0 : index
// CHECK:         %[[M:.*]] = arith.index_cast %a_d0 : i64 to index
// CHECK:         %[[N:.*]] = arith.index_cast %b_d0 : i64 to index
// CHECK:         %[[SAME:.*]] = arith.cmpi eq, %[[N]], %[[M]] : index
// CHECK:         %[[UNIT:.*]] = arith.cmpi eq, %[[N]], %[[ONE]] : index
// CHECK:         %[[FITS:.*]] = arith.ori %[[SAME]], %[[UNIT]] : i1
// CHECK:         %[[OK:.*]] = arith.andi %{{.*}}, %[[FITS]] : i1
// CHECK:         cf.cond_br %[[OK]]
// CHECK:         scf.for %[[I:.*]] = %[[ZERO]] to %[[M]] step
// CHECK:           %[[X:.*]] = memref.load %a[%[[I]]] : memref<?xf32>
// CHECK:           %[[BCAST:.*]] = arith.cmpi eq, %[[N]], %[[ONE]] : index
// CHECK:           %[[AT:.*]] = arith.select %[[BCAST]], %[[ZERO]], %[[I]] : index
// CHECK:           %[[Y:.*]] = memref.load %b[%[[AT]]] : memref<?xf32>
func.func @broadcast(%a: tensor<?xf32> {red.dims = ["m"]}, %b: tensor<?xf32> {red.dims = ["n"]}) -> tensor<?xf32> {
  %s = red.add %a, %b : tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
  func.return %s : tensor<?xf32>
}

// -----

// A gather of the constant indices 2, 3, 4 is a slice: the table is read at column j + 2,
// without loading an index; other constant indices (5, -6) are loaded and clamped.
// CHECK-LABEL: func.func @red_split(
// CHECK:         %[[OTHER:.*]] = memref.get_global @{{.*}} : memref<2xi64>
// CHECK:         scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step
// CHECK-NEXT:      scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step
// CHECK-NEXT:        %[[COL:.*]] = arith.addi %[[J]], %{{.*}} : index
// CHECK-NEXT:        %[[ROW:.*]] = arith.muli %[[I]], %{{.*}} : index
// CHECK-NEXT:        %[[AT:.*]] = arith.addi %[[ROW]], %[[COL]] : index
// CHECK-NEXT:        %[[V:.*]] = memref.load %x[%[[AT]]] : memref<?xf32>
// CHECK:             memref.store %[[V]], %res0[%{{.*}}] : memref<?xf32>
// CHECK:         scf.for
// CHECK-NEXT:      scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step
// CHECK-NEXT:        %[[ID:.*]] = memref.load %[[OTHER]][%[[K]]] : memref<2xi64>
// CHECK-NEXT:        %{{.*}} = arith.index_cast %[[ID]] : i64 to index
func.func @split(%x: tensor<?x6xf32> {red.dims = ["s", ""]}) -> (tensor<?x3xf32>, tensor<?x2xf32>) {
  %run = red.constant dense<[2, 3, 4]> : tensor<3xi64>
  %a = red.gather %x, %run axis = 1 : tensor<?x6xf32>, tensor<3xi64> -> tensor<?x3xf32>
  %other = red.constant dense<[5, -6]> : tensor<2xi64>
  %b = red.gather %x, %other axis = 1 : tensor<?x6xf32>, tensor<2xi64> -> tensor<?x2xf32>
  func.return %a, %b : tensor<?x3xf32>, tensor<?x2xf32>
}
