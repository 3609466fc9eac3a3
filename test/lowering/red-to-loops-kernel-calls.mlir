// RUN: red-opt %s -p convert-red-to-loops --split-input-file | filecheck %s

// convert-red-to-loops calls the kernel library (lowering/kernels) for f32/f64 matmuls and
// f32 softmax/layer_norm/rms_norm over trailing axes (lowering/loops/matmul.py,
// reductions.py, kernel_calls.py): the entry point is declared with its C types, buffers are
// passed as pointers (unrealized_conversion_cast to !llvm.ptr), sizes and strides as i64
// constants; the thread count of a call doing less than 2^22 FLOPs (16 per element for the
// row kernels) is 1, else it is read from @__red_num_threads0 (0: the library default; the
// JIT makes it the compile's thread count).

// A 2-D matmul: red_sgemm(m, n, k, A, k, 1, B, n, 1, C, n, 1, accumulate 0, threads),
// written straight into the result buffer; small, so on one thread.
// CHECK-NOT:   __red_num_threads0
// CHECK:       func.func private @red_sgemm(i64, i64, i64, !llvm.ptr, i64, i64, !llvm.ptr, i64, i64, !llvm.ptr, i64, i64, i32, i32)
// CHECK-LABEL: func.func @red_matmul_2d
// CHECK-SAME:    (%[[A:.*]]: memref<3x4xf32>, %[[B:.*]]: memref<4x5xf32>, %[[RES:.*]]: memref<3x5xf32>) {
// CHECK-DAG:     %[[NOACC:.*]] = arith.constant 0 : i32
// CHECK-DAG:     %[[T:.*]] = arith.constant 1 : i32
// CHECK-DAG:     %[[ONE:.*]] = arith.constant 1 : i64
// CHECK-DAG:     %[[K:.*]] = arith.constant 4 : i64
// CHECK-DAG:     %[[N:.*]] = arith.constant 5 : i64
// CHECK-DAG:     %[[M:.*]] = arith.constant 3 : i64
// CHECK:         %[[PA:.*]] = builtin.unrealized_conversion_cast %[[A]] : memref<3x4xf32> to !llvm.ptr
// CHECK-NEXT:    %[[PB:.*]] = builtin.unrealized_conversion_cast %[[B]] : memref<4x5xf32> to !llvm.ptr
// CHECK-NEXT:    %[[PC:.*]] = builtin.unrealized_conversion_cast %[[RES]] : memref<3x5xf32> to !llvm.ptr
// CHECK-NEXT:    func.call @red_sgemm(%[[M]], %[[N]], %[[K]], %[[PA]], %[[K]], %[[ONE]], %[[PB]], %[[N]], %[[ONE]], %[[PC]], %[[N]], %[[ONE]], %[[NOACC]], %[[T]])
// CHECK-NOT:     __red_matmul
// CHECK-NEXT:    func.return
func.func @matmul_2d(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>) -> tensor<3x5xf32> {
  %c = red.matmul %a, %b : tensor<3x4xf32>, tensor<4x5xf32> -> tensor<3x5xf32>
  func.return %c : tensor<3x5xf32>
}

// -----

// 128x256x128 (2^23 FLOPs): the thread count is the module's, loaded from its global at the
// call; the global's address is taken once, at the top of the function.
// CHECK-LABEL: memref.global
// CHECK-SAME:    sym_name = "__red_num_threads0", type = memref<i32>
// CHECK-LABEL: func.func @red_matmul_threaded
// CHECK:         %[[G:.*]] = memref.get_global @__red_num_threads0 : memref<i32>
// CHECK:         %[[T:.*]] = memref.load %[[G]][] : memref<i32>
// CHECK:         func.call @red_sgemm(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[T]])
func.func @matmul_threaded(%a: tensor<128x256xf32>, %b: tensor<256x128xf32>) -> tensor<128x128xf32> {
  %c = red.matmul %a, %b : tensor<128x256xf32>, tensor<256x128xf32> -> tensor<128x128xf32>
  func.return %c : tensor<128x128xf32>
}

// -----

// One row (a decode step): the same entry point with m = 1, which takes the library's
// matrix-vector path.
// CHECK-LABEL: func.func @red_matmul_row
// CHECK-DAG:     %[[ONE:.*]] = arith.constant 1 : i64
// CHECK-DAG:     %[[K:.*]] = arith.constant 6 : i64
// CHECK-DAG:     %[[N:.*]] = arith.constant 7 : i64
// CHECK:         func.call @red_sgemm(%[[ONE]], %[[N]], %[[K]], %{{.*}}, %[[K]], %[[ONE]], %{{.*}}, %[[N]], %[[ONE]], %{{.*}}, %[[N]], %[[ONE]],
func.func @matmul_row(%x: tensor<1x6xf32>, %w: tensor<6x7xf32>) -> tensor<1x7xf32> {
  %c = red.matmul %x, %w : tensor<1x6xf32>, tensor<6x7xf32> -> tensor<1x7xf32>
  func.return %c : tensor<1x7xf32>
}

// -----

// Attention heads [1, 2] x [3, 4] · [4, 5]: the size-1 batch dim is dropped, the other is
// batch1 of red_sgemm_batched (batch0 = 1, strides 0), with batch strides 12, 20 and 15.
// CHECK:       func.func private @red_sgemm_batched(i64, i64, i64, i64, i64, !llvm.ptr, i64, i64, i64, i64, !llvm.ptr, i64, i64, i64, i64, !llvm.ptr, i64, i64, i64, i64, i32, i32)
// CHECK-LABEL: func.func @red_matmul_heads
// CHECK-SAME:    (%[[Q:.*]]: memref<1x2x3x4xf32>, %[[KT:.*]]: memref<1x2x4x5xf32>, %[[RES:.*]]: memref<1x2x3x5xf32>) {
// CHECK-DAG:     %[[C15:.*]] = arith.constant 15 : i64
// CHECK-DAG:     %[[C20:.*]] = arith.constant 20 : i64
// CHECK-DAG:     %[[C12:.*]] = arith.constant 12 : i64
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0 : i64
// CHECK-DAG:     %[[C4:.*]] = arith.constant 4 : i64
// CHECK-DAG:     %[[C5:.*]] = arith.constant 5 : i64
// CHECK-DAG:     %[[C3:.*]] = arith.constant 3 : i64
// CHECK-DAG:     %[[C2:.*]] = arith.constant 2 : i64
// CHECK-DAG:     %[[C1:.*]] = arith.constant 1 : i64
// CHECK:         %[[PQ:.*]] = builtin.unrealized_conversion_cast %[[Q]]
// CHECK-NEXT:    %[[PK:.*]] = builtin.unrealized_conversion_cast %[[KT]]
// CHECK-NEXT:    %[[PC:.*]] = builtin.unrealized_conversion_cast %[[RES]]
// CHECK-NEXT:    func.call @red_sgemm_batched(%[[C1]], %[[C2]], %[[C3]], %[[C5]], %[[C4]], %[[PQ]], %[[ZERO]], %[[C12]], %[[C4]], %[[C1]], %[[PK]], %[[ZERO]], %[[C20]], %[[C5]], %[[C1]], %[[PC]], %[[ZERO]], %[[C15]], %[[C5]], %[[C1]],
func.func @matmul_heads(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x4x5xf32>) -> tensor<1x2x3x5xf32> {
  %c = red.matmul %q, %k : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32> -> tensor<1x2x3x5xf32>
  func.return %c : tensor<1x2x3x5xf32>
}

// -----

// A weight shared by every batch entry, whose A and C rows run on through the batch: one
// gemm of 3·2 = 6 rows (B is packed once, not once per entry).
// CHECK-LABEL: func.func @red_matmul_shared_weight
// CHECK-DAG:     %[[M:.*]] = arith.constant 6 : i64
// CHECK-DAG:     %[[N:.*]] = arith.constant 5 : i64
// CHECK-DAG:     %[[K:.*]] = arith.constant 4 : i64
// CHECK-NOT:     red_sgemm_batched
// CHECK:         func.call @red_sgemm(%[[M]], %[[N]], %[[K]],
func.func @matmul_shared_weight(%x: tensor<3x2x4xf32>, %w: tensor<4x5xf32>) -> tensor<3x2x5xf32> {
  %c = red.matmul %x, %w : tensor<3x2x4xf32>, tensor<4x5xf32> -> tensor<3x2x5xf32>
  func.return %c : tensor<3x2x5xf32>
}

// -----

// f64 calls red_dgemm; two matmuls share one declaration, and the intermediate product is a
// buffer freed after its last use.
// CHECK:       func.func private @red_dgemm(
// CHECK-NOT:   func.func private @red_dgemm(
// CHECK-LABEL: func.func @red_matmul_f64_chain
// CHECK-SAME:    (%[[X:.*]]: memref<2x3xf64>, %[[W:.*]]: memref<3x4xf64>, %[[V:.*]]: memref<4x2xf64>, %[[RES:.*]]: memref<2x2xf64>) {
// CHECK:         %[[Y:.*]] = memref.alloc() : memref<2x4xf64>
// CHECK:         %[[PY:.*]] = builtin.unrealized_conversion_cast %[[Y]] : memref<2x4xf64> to !llvm.ptr
// CHECK-NEXT:    func.call @red_dgemm(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[PY]],
// CHECK:         %[[PY2:.*]] = builtin.unrealized_conversion_cast %[[Y]] : memref<2x4xf64> to !llvm.ptr
// CHECK:         func.call @red_dgemm(%{{.*}}, %{{.*}}, %{{.*}}, %[[PY2]],
// CHECK-NEXT:    memref.dealloc %[[Y]] : memref<2x4xf64>
func.func @matmul_f64_chain(%x: tensor<2x3xf64>, %w: tensor<3x4xf64>, %v: tensor<4x2xf64>) -> tensor<2x2xf64> {
  %y = red.matmul %x, %w : tensor<2x3xf64>, tensor<3x4xf64> -> tensor<2x4xf64>
  %z = red.matmul %y, %v : tensor<2x4xf64>, tensor<4x2xf64> -> tensor<2x2xf64>
  func.return %z : tensor<2x2xf64>
}

// -----

// Integer matmuls are not the library's: the module's own loop kernel, no declaration.
// CHECK-LABEL: func.func private @__red_matmul_i32
// CHECK-NOT:     red_sgemm
// CHECK-LABEL: func.func @red_no_library_integer_matmul
// CHECK:         func.call @__red_matmul_i32(
// CHECK-NOT:     red_sgemm
// CHECK:         func.return
func.func @no_library_integer_matmul(%x: tensor<2x3xi32>, %w: tensor<3x2xi32>) -> tensor<2x2xi32> {
  %y = red.matmul %x, %w : tensor<2x3xi32>, tensor<3x2xi32> -> tensor<2x2xi32>
  func.return %y : tensor<2x2xi32>
}

// -----

// softmax over the last axis of [2, 3, 8]: red_softmax_f32(rows 6, n 8, x, 8, y, 8, threads).
// CHECK:       func.func private @red_softmax_f32(i64, i64, !llvm.ptr, i64, !llvm.ptr, i64, i32)
// CHECK-LABEL: func.func @red_softmax_rows
// CHECK-SAME:    (%[[X:.*]]: memref<2x3x8xf32>, %[[RES:.*]]: memref<2x3x8xf32>) {
// CHECK-DAG:     %[[N:.*]] = arith.constant 8 : i64
// CHECK-DAG:     %[[ROWS:.*]] = arith.constant 6 : i64
// CHECK-DAG:     %[[PX:.*]] = builtin.unrealized_conversion_cast %[[X]] : memref<2x3x8xf32> to !llvm.ptr
// CHECK-DAG:     %[[PY:.*]] = builtin.unrealized_conversion_cast %[[RES]] : memref<2x3x8xf32> to !llvm.ptr
// CHECK-DAG:     %[[T:.*]] = arith.constant 1 : i32
// CHECK:         func.call @red_softmax_f32(%[[ROWS]], %[[N]], %[[PX]], %[[N]], %[[PY]], %[[N]], %[[T]])
// CHECK-NOT:     scf.for
// CHECK:         func.return
func.func @softmax_rows(%x: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
  %s = red.softmax %x axis = 2 : tensor<2x3x8xf32>
  func.return %s : tensor<2x3x8xf32>
}

// -----

// layer_norm from axis 1 of [2, 3, 4]: rows of 12, eps as f32, no gamma or beta (null).
// CHECK-LABEL: func.func @red_layer_norm_rows
// CHECK-DAG:     %[[EPS:.*]] = arith.constant 1.000000e-05 : f32
// CHECK-DAG:     %[[N:.*]] = arith.constant 12 : i64
// CHECK-DAG:     %[[ROWS:.*]] = arith.constant 2 : i64
// CHECK:         %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK-NEXT:    func.call @red_layer_norm_f32(%[[ROWS]], %[[N]], %{{.*}}, %[[N]], %{{.*}}, %[[N]], %[[EPS]], %[[NULL]], %[[NULL]], %{{.*}})
func.func @layer_norm_rows(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %n = red.layer_norm %x axis = 1 eps = 1.0e-05 : tensor<2x3x4xf32>
  func.return %n : tensor<2x3x4xf32>
}

// -----

// rms_norm of an elementwise value: the exp is computed into a buffer first (the kernel
// reads memory), passed as x, and freed after the call.
// CHECK-LABEL: func.func @red_rms_norm_of_exp
// CHECK-DAG:     %[[EPS:.*]] = arith.constant 1.000000e-06 : f32
// CHECK:         %[[E:.*]] = memref.alloc() : memref<4x16xf32>
// CHECK:         math.exp
// CHECK:         %[[PE:.*]] = builtin.unrealized_conversion_cast %[[E]] : memref<4x16xf32> to !llvm.ptr
// CHECK:         func.call @red_rms_norm_f32(%{{.*}}, %{{.*}}, %[[PE]], %{{.*}}, %{{.*}}, %{{.*}}, %[[EPS]], %{{.*}}, %{{.*}})
// CHECK-NEXT:    memref.dealloc %[[E]] : memref<4x16xf32>
func.func @rms_norm_of_exp(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %e = red.exp %x : tensor<4x16xf32>
  %n = red.rms_norm %e axis = 1 eps = 1.0e-06 : tensor<4x16xf32>
  func.return %n : tensor<4x16xf32>
}

// -----

// softmax over a leading axis is not a row kernel's: loops, no library call.
// CHECK-LABEL: func.func @red_no_library_softmax_leading_axis
// CHECK-NOT:     red_softmax_f32
// CHECK:         math.exp
// CHECK-NOT:     red_softmax_f32
// CHECK:         func.return
func.func @no_library_softmax_leading_axis(%x: tensor<3x8xf32>) -> tensor<3x8xf32> {
  %s = red.softmax %x axis = 0 : tensor<3x8xf32>
  func.return %s : tensor<3x8xf32>
}

// -----

// f64 normalizations keep their loops (the row kernels are f32).
// CHECK-LABEL: func.func @red_no_library_layer_norm_f64
// CHECK-NOT:     red_layer_norm
// CHECK:         math.sqrt
// CHECK-NOT:     red_layer_norm
// CHECK:         func.return
func.func @no_library_layer_norm_f64(%x: tensor<3x8xf64>) -> tensor<3x8xf64> {
  %n = red.layer_norm %x axis = 1 eps = 1.0e-05 : tensor<3x8xf64>
  func.return %n : tensor<3x8xf64>
}
