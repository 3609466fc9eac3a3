// RUN: red-opt %s -p 'convert-red-to-loops{vector-bits=128}' --split-input-file | filecheck %s

// The matmul rule of convert-red-to-loops (lowering/loops/matmul.py), with the kernel tiled
// for 128-bit registers (vector-bits=128: 4 f32 lanes, tiles of 4 rows by 2 vectors).

// A matmul calls the module's kernel for its element type on flat views of A, B and C,
// with offsets 0 and the sizes M, N, K; a returned product is written into the result.
// The kernel: column blocks of 2 vectors (8 columns) and row blocks of 4 rows keep 8
// accumulators in registers across the k loop (a broadcast element of A times a vector row
// of B, fused multiply-add); then 1-row tiles, 1-vector columns, and scalar columns.
// CHECK-LABEL: func.func private @__red_matmul_f32
// CHECK-SAME:    (%[[A:.*]]: memref<?xf32>, %[[AOFF:.*]]: index, %[[B:.*]]: memref<?xf32>, %[[BOFF:.*]]: index, %[[C:.*]]: memref<?xf32>, %[[COFF:.*]]: index, %[[M:.*]]: index, %[[N:.*]]: index, %[[K:.*]]: index) {
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG:     %[[FOUR:.*]] = arith.constant 4 : index
// CHECK-DAG:     %[[EIGHT:.*]] = arith.constant 8 : index
// CHECK:         %[[NREM:.*]] = arith.remsi %[[N]], %[[EIGHT]] : index
// CHECK-NEXT:    %[[NFULL:.*]] = arith.subi %[[N]], %[[NREM]] : index
// CHECK-NEXT:    %[[MREM:.*]] = arith.remsi %[[M]], %[[FOUR]] : index
// CHECK-NEXT:    %[[MFULL:.*]] = arith.subi %[[M]], %[[MREM]] : index
// CHECK-NEXT:    scf.for %[[J0:.*]] = %{{.*}} to %[[NFULL]] step %[[EIGHT]] {
// CHECK-NEXT:      scf.for %[[I0:.*]] = %{{.*}} to %[[MFULL]] step %[[FOUR]] {
// CHECK-NEXT:        %[[VZERO:.*]] = vector.broadcast %[[ZERO]] : f32 to vector<4xf32>
// CHECK:             %{{.*}} = scf.for %[[KK:.*]] = %{{.*}} to %[[K]] step %{{.*}} iter_args(%[[ACC0:[^ ]*]] = %[[VZERO]], {{.*}}) -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
// CHECK:               %[[B0:.*]] = vector.load %[[B]][%{{.*}}] : memref<?xf32>, vector<4xf32>
// CHECK:               %[[B1:.*]] = vector.load %[[B]][%{{.*}}] : memref<?xf32>, vector<4xf32>
// CHECK:               %[[A0:.*]] = memref.load %[[A]][%{{.*}}] : memref<?xf32>
// CHECK-NEXT:          %[[AV:.*]] = vector.broadcast %[[A0]] : f32 to vector<4xf32>
// CHECK-NEXT:          %{{.*}} = vector.fma %[[AV]], %[[B0]], %[[ACC0]] : vector<4xf32>
// CHECK-NEXT:          %{{.*}} = vector.fma %[[AV]], %[[B1]], %{{.*}} : vector<4xf32>
// CHECK-COUNT-3:       vector.broadcast
// CHECK:               scf.yield %{{.*}} : vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>
// CHECK-COUNT-8:     vector.store %{{.*}}, %[[C]][%{{.*}}] : memref<?xf32>, vector<4xf32>
// CHECK:           scf.for %{{.*}} = %[[MFULL]] to %[[M]] step %{{.*}} {
// CHECK:             scf.for {{.*}} -> (vector<4xf32>, vector<4xf32>) {
// CHECK:         %[[NREM4:.*]] = arith.remsi %[[N]], %[[FOUR]] : index
// CHECK-NEXT:    %[[VEND:.*]] = arith.subi %[[N]], %[[NREM4]] : index
// CHECK:           scf.for %{{.*}} = %[[NFULL]] to %[[VEND]] step %[[FOUR]] {
// CHECK:             scf.for {{.*}} -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
// CHECK:             scf.for %{{.*}} = %[[VEND]] to %[[N]] step %{{.*}} {
// CHECK-NEXT:        scf.for {{.*}} iter_args(%[[S:.*]] = %[[ZERO]]) -> (f32) {
// CHECK:               %[[X:.*]] = memref.load %[[A]]
// CHECK:               %[[Y:.*]] = memref.load %[[B]]
// CHECK-NEXT:          %[[P:.*]] = arith.mulf %[[X]], %[[Y]] : f32
// CHECK-NEXT:          %[[S2:.*]] = arith.addf %[[S]], %[[P]] : f32
// CHECK-NEXT:          scf.yield %[[S2]] : f32
// CHECK-LABEL: func.func @red_matmul
// CHECK-SAME:    (%[[X:.*]]: memref<2x3xf32>, %[[W:.*]]: memref<3x4xf32>, %[[RES:.*]]: memref<2x4xf32>) {
// CHECK-DAG:     %[[K3:.*]] = arith.constant 3 : index
// CHECK-DAG:     %[[N4:.*]] = arith.constant 4 : index
// CHECK-DAG:     %[[M2:.*]] = arith.constant 2 : index
// CHECK-DAG:     %[[O:.*]] = arith.constant 0 : index
// CHECK:         %[[FX:.*]] = memref.reinterpret_cast %[[X]] to offset: [0], sizes: [6], strides: [1] : memref<2x3xf32> to memref<6xf32>
// CHECK-NEXT:    %[[DX:.*]] = "memref.cast"(%[[FX]]) : (memref<6xf32>) -> memref<?xf32>
// CHECK-NEXT:    %[[FW:.*]] = memref.reinterpret_cast %[[W]] to offset: [0], sizes: [12], strides: [1] : memref<3x4xf32> to memref<12xf32>
// CHECK-NEXT:    %[[DW:.*]] = "memref.cast"(%[[FW]]) : (memref<12xf32>) -> memref<?xf32>
// CHECK-NEXT:    %[[FR:.*]] = memref.reinterpret_cast %[[RES]] to offset: [0], sizes: [8], strides: [1] : memref<2x4xf32> to memref<8xf32>
// CHECK-NEXT:    %[[DR:.*]] = "memref.cast"(%[[FR]]) : (memref<8xf32>) -> memref<?xf32>
// CHECK-NEXT:    func.call @__red_matmul_f32(%[[DX]], %[[O]], %[[DW]], %[[O]], %[[DR]], %[[O]], %[[M2]], %[[N4]], %[[K3]])
// CHECK-NEXT:    func.return
func.func @matmul(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>) -> tensor<2x4xf32> {
  %y = red.matmul %x, %w : tensor<2x3xf32>, tensor<3x4xf32> -> tensor<2x4xf32>
  func.return %y : tensor<2x4xf32>
}

// -----

// One kernel per element type, shared by every matmul of the module.
// CHECK-LABEL: func.func private @__red_matmul_f32
// CHECK-NOT:   func.func private @__red_matmul_f32
// CHECK-LABEL: func.func @red_two_matmuls
// CHECK-SAME:    (%[[X:.*]]: memref<2x4xf32>, %[[W:.*]]: memref<4x5xf32>, %[[V:.*]]: memref<5x3xf32>, %[[RES0:.*]]: memref<2x5xf32>, %[[RES1:.*]]: memref<2x3xf32>) {
// CHECK-NOT:     memref.alloc
// CHECK:         func.call @__red_matmul_f32(
// CHECK:         func.call @__red_matmul_f32(
// CHECK-NOT:     memref.alloc
// CHECK:         func.return
func.func @two_matmuls(%x: tensor<2x4xf32>, %w: tensor<4x5xf32>, %v: tensor<5x3xf32>) -> (tensor<2x5xf32>, tensor<2x3xf32>) {
  %y = red.matmul %x, %w : tensor<2x4xf32>, tensor<4x5xf32> -> tensor<2x5xf32>
  %z = red.matmul %y, %v : tensor<2x5xf32>, tensor<5x3xf32> -> tensor<2x3xf32>
  func.return %y, %z : tensor<2x5xf32>, tensor<2x3xf32>
}

// -----

// A batched matmul loops over the (broadcast) batch dims and calls the kernel at offsets:
// i·8 into A (2x4 matrices), 0 into the broadcast B, i·10 into C (2x5 matrices).
// CHECK-LABEL: func.func @red_batched_matmul
// CHECK-DAG:     %[[TEN:.*]] = arith.constant 10 : index
// CHECK-DAG:     %[[EIGHT:.*]] = arith.constant 8 : index
// CHECK-DAG:     %[[O:.*]] = arith.constant 0 : index
// CHECK:         scf.for %[[I:.*]] = {{.*}} {
// CHECK-NEXT:      %[[AOFF:.*]] = arith.muli %[[I]], %[[EIGHT]] : index
// CHECK-NEXT:      %[[COFF:.*]] = arith.muli %[[I]], %[[TEN]] : index
// CHECK-NEXT:      func.call @__red_matmul_f32(%{{.*}}, %[[AOFF]], %{{.*}}, %[[O]], %{{.*}}, %[[COFF]], %{{.*}}, %{{.*}}, %{{.*}})
// CHECK-NEXT:    }
func.func @batched_matmul(%x: tensor<3x2x4xf32>, %w: tensor<4x5xf32>) -> tensor<3x2x5xf32> {
  %y = red.matmul %x, %w : tensor<3x2x4xf32>, tensor<4x5xf32> -> tensor<3x2x5xf32>
  func.return %y : tensor<3x2x5xf32>
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
