// RUN: red-opt %s -p 'convert-red-to-loops{vector-bits=128}' --split-input-file | filecheck %s

// The loop kernel of convert-red-to-loops' matmul rule (lowering/loops/matmul.py): what the
// kernel library does not cover (f16, integers, more than two batch dims that do not merge;
// f16 and f64 call the library, red-to-loops-kernel-calls.mlir), with the kernel tiled for
// 128-bit registers (vector-bits=128: 8 f16 lanes, tiles of 4 rows by 2 vectors).

// A matmul calls the module's kernel for its element type on flat views of A, B and C,
// with offsets 0 and the sizes M, N, K; a returned product is written into the result.
// The kernel: column blocks of 2 vectors (16 columns) and row blocks of 4 rows keep 8
// accumulators in registers across the k loop (a broadcast element of A times a vector row
// of B, fused multiply-add); then 1-row tiles, 1-vector columns, and scalar columns.
// CHECK-LABEL: func.func private @__red_matmul_f16
// CHECK-SAME:    (%[[A:.*]]: memref<?xf16>, %[[AOFF:.*]]: index, %[[B:.*]]: memref<?xf16>, %[[BOFF:.*]]: index, %[[C:.*]]: memref<?xf16>, %[[COFF:.*]]: index, %[[M:.*]]: index, %[[N:.*]]: index, %[[K:.*]]: index) {
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f16
// CHECK-DAG:     %[[FOUR:.*]] = arith.constant 4 : index
// CHECK-DAG:     %[[EIGHT:.*]] = arith.constant 8 : index
// CHECK-DAG:     %[[SIXTEEN:.*]] = arith.constant 16 : index
// CHECK:         %[[NREM:.*]] = arith.remsi %[[N]], %[[SIXTEEN]] : index
// CHECK-NEXT:    %[[NFULL:.*]] = arith.subi %[[N]], %[[NREM]] : index
// CHECK-NEXT:    %[[MREM:.*]] = arith.remsi %[[M]], %[[FOUR]] : index
// CHECK-NEXT:    %[[MFULL:.*]] = arith.subi %[[M]], %[[MREM]] : index
// CHECK-NEXT:    scf.for %[[J0:.*]] = %{{.*}} to %[[NFULL]] step %[[SIXTEEN]] {
// CHECK-NEXT:      scf.for %[[I0:.*]] = %{{.*}} to %[[MFULL]] step %[[FOUR]] {
// CHECK-NEXT:        %[[VZERO:.*]] = vector.broadcast %[[ZERO]] : f16 to vector<8xf16>
// CHECK:             %{{.*}} = scf.for %[[KK:.*]] = %{{.*}} to %[[K]] step %{{.*}} iter_args(%[[ACC0:[^ ]*]] = %[[VZERO]], {{.*}}) -> (vector<8xf16>, vector<8xf16>, vector<8xf16>, vector<8xf16>, vector<8xf16>, vector<8xf16>, vector<8xf16>, vector<8xf16>) {
// CHECK:               %[[B0:.*]] = vector.load %[[B]][%{{.*}}] : memref<?xf16>, vector<8xf16>
// CHECK:               %[[B1:.*]] = vector.load %[[B]][%{{.*}}] : memref<?xf16>, vector<8xf16>
// CHECK:               %[[A0:.*]] = memref.load %[[A]][%{{.*}}] : memref<?xf16>
// CHECK-NEXT:          %[[AV:.*]] = vector.broadcast %[[A0]] : f16 to vector<8xf16>
// CHECK-NEXT:          %{{.*}} = vector.fma %[[AV]], %[[B0]], %[[ACC0]] : vector<8xf16>
// CHECK-NEXT:          %{{.*}} = vector.fma %[[AV]], %[[B1]], %{{.*}} : vector<8xf16>
// CHECK-COUNT-3:       vector.broadcast
// CHECK:               scf.yield %{{.*}} : vector<8xf16>, vector<8xf16>, vector<8xf16>, vector<8xf16>, vector<8xf16>, vector<8xf16>, vector<8xf16>, vector<8xf16>
// CHECK-COUNT-8:     vector.store %{{.*}}, %[[C]][%{{.*}}] : memref<?xf16>, vector<8xf16>
// CHECK:           scf.for %{{.*}} = %[[MFULL]] to %[[M]] step %{{.*}} {
// CHECK:             scf.for {{.*}} -> (vector<8xf16>, vector<8xf16>) {
// CHECK:         %[[NREM8:.*]] = arith.remsi %[[N]], %[[EIGHT]] : index
// CHECK-NEXT:    %[[VEND:.*]] = arith.subi %[[N]], %[[NREM8]] : index
// CHECK:           scf.for %{{.*}} = %[[NFULL]] to %[[VEND]] step %[[EIGHT]] {
// CHECK:             scf.for {{.*}} -> (vector<8xf16>, vector<8xf16>, vector<8xf16>, vector<8xf16>) {
// CHECK:             scf.for %{{.*}} = %[[VEND]] to %[[N]] step %{{.*}} {
// CHECK-NEXT:        scf.for {{.*}} iter_args(%[[S:.*]] = %[[ZERO]]) -> (f16) {
// CHECK:               %[[X:.*]] = memref.load %[[A]]
// CHECK:               %[[Y:.*]] = memref.load %[[B]]
// CHECK-NEXT:          %[[P:.*]] = arith.mulf %[[X]], %[[Y]] : f16
// CHECK-NEXT:          %[[S2:.*]] = arith.addf %[[S]], %[[P]] : f16
// CHECK-NEXT:          scf.yield %[[S2]] : f16
// CHECK-LABEL: func.func @red_matmul
// CHECK-SAME:    (%[[X:.*]]: memref<2x3xf16>, %[[W:.*]]: memref<3x4xf16>, %[[RES:.*]]: memref<2x4xf16>) {
// CHECK-DAG:     %[[K3:.*]] = arith.constant 3 : index
// CHECK-DAG:     %[[N4:.*]] = arith.constant 4 : index
// CHECK-DAG:     %[[M2:.*]] = arith.constant 2 : index
// CHECK-DAG:     %[[O:.*]] = arith.constant 0 : index
// CHECK:         %[[FX:.*]] = memref.reinterpret_cast %[[X]] to offset: [0], sizes: [6], strides: [1] : memref<2x3xf16> to memref<6xf16>
// CHECK-NEXT:    %[[DX:.*]] = "memref.cast"(%[[FX]]) : (memref<6xf16>) -> memref<?xf16>
// CHECK-NEXT:    %[[FW:.*]] = memref.reinterpret_cast %[[W]] to offset: [0], sizes: [12], strides: [1] : memref<3x4xf16> to memref<12xf16>
// CHECK-NEXT:    %[[DW:.*]] = "memref.cast"(%[[FW]]) : (memref<12xf16>) -> memref<?xf16>
// CHECK-NEXT:    %[[FR:.*]] = memref.reinterpret_cast %[[RES]] to offset: [0], sizes: [8], strides: [1] : memref<2x4xf16> to memref<8xf16>
// CHECK-NEXT:    %[[DR:.*]] = "memref.cast"(%[[FR]]) : (memref<8xf16>) -> memref<?xf16>
// CHECK-NEXT:    func.call @__red_matmul_f16(%[[DX]], %[[O]], %[[DW]], %[[O]], %[[DR]], %[[O]], %[[M2]], %[[N4]], %[[K3]])
// CHECK-NEXT:    func.return
func.func @matmul(%x: tensor<2x3xf16>, %w: tensor<3x4xf16>) -> tensor<2x4xf16> {
  %y = red.matmul %x, %w : tensor<2x3xf16>, tensor<3x4xf16> -> tensor<2x4xf16>
  func.return %y : tensor<2x4xf16>
}

// -----

// One kernel per element type, shared by every matmul of the module.
// CHECK-LABEL: func.func private @__red_matmul_f16
// CHECK-NOT:   func.func private @__red_matmul_f16
// CHECK-LABEL: func.func @red_two_matmuls
// CHECK-SAME:    (%[[X:.*]]: memref<2x4xf16>, %[[W:.*]]: memref<4x5xf16>, %[[V:.*]]: memref<5x3xf16>, %[[RES0:.*]]: memref<2x5xf16>, %[[RES1:.*]]: memref<2x3xf16>) {
// CHECK-NOT:     memref.alloc
// CHECK:         func.call @__red_matmul_f16(
// CHECK:         func.call @__red_matmul_f16(
// CHECK-NOT:     memref.alloc
// CHECK:         func.return
func.func @two_matmuls(%x: tensor<2x4xf16>, %w: tensor<4x5xf16>, %v: tensor<5x3xf16>) -> (tensor<2x5xf16>, tensor<2x3xf16>) {
  %y = red.matmul %x, %w : tensor<2x4xf16>, tensor<4x5xf16> -> tensor<2x5xf16>
  %z = red.matmul %y, %v : tensor<2x5xf16>, tensor<5x3xf16> -> tensor<2x3xf16>
  func.return %y, %z : tensor<2x5xf16>, tensor<2x3xf16>
}

// -----

// Three batch dims that do not merge into two (B is broadcast along the middle one only)
// stay on the loop kernel, even for f32: a loop over the batch, a call per entry at offsets
// i·6 into A (3x2 matrices), into the broadcast B and into C.
// CHECK-LABEL: func.func @red_three_batch_dims_matmul
// CHECK-NOT:     red_sgemm
// CHECK:         scf.for %[[I:.*]] = {{.*}} {
// CHECK-NEXT:      scf.for %[[J:.*]] = {{.*}} {
// CHECK-NEXT:        scf.for %[[L:.*]] = {{.*}} {
// CHECK:               func.call @__red_matmul_f32(
// CHECK-NOT:     red_sgemm
// CHECK:         func.return
func.func @three_batch_dims_matmul(%x: tensor<2x3x2x2x3xf32>, %w: tensor<2x1x2x3x4xf32>) -> tensor<2x3x2x2x4xf32> {
  %y = red.matmul %x, %w : tensor<2x3x2x2x3xf32>, tensor<2x1x2x3x4xf32> -> tensor<2x3x2x2x4xf32>
  func.return %y : tensor<2x3x2x2x4xf32>
}

// -----

// Integers have no vector kernel: plain loops, C[i, j] = sum_k A[i, k]·B[k, j].
// CHECK-LABEL: func.func private @__red_matmul_i64
// CHECK-SAME:    (%[[A:.*]]: memref<?xi64>, %{{.*}}: index, %[[B:.*]]: memref<?xi64>, %{{.*}}: index, %[[C:.*]]: memref<?xi64>, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index) {
// CHECK-NOT:     vector.
// CHECK:         scf.for {{.*}} iter_args(%[[S:.*]] = %{{.*}}) -> (i64) {
// CHECK:           %[[X:.*]] = memref.load %[[A]]
// CHECK:           %[[Y:.*]] = memref.load %[[B]]
// CHECK-NEXT:      %[[P:.*]] = arith.muli %[[X]], %[[Y]] : i64
// CHECK-NEXT:      %[[S2:.*]] = arith.addi %[[S]], %[[P]] : i64
// CHECK-NEXT:      scf.yield %[[S2]] : i64
// CHECK:         memref.store %{{.*}}, %[[C]]
// CHECK-NOT:     vector.
// CHECK:         func.return
func.func @integer_matmul(%x: tensor<2x3xi64>, %w: tensor<3x2xi64>) -> tensor<2x2xi64> {
  %y = red.matmul %x, %w : tensor<2x3xi64>, tensor<3x2xi64> -> tensor<2x2xi64>
  func.return %y : tensor<2x2xi64>
}
