// RUN: red-opt %s -p convert-to-llvm --split-input-file | filecheck %s

// A vector load or store is one access of consecutive elements at &base[i], aligned like
// one element (the matmul kernel's rows of B and C need not be vector-aligned).
// CHECK-LABEL: llvm.func @load_store
// CHECK-SAME:    (%[[B:.*]]: !llvm.ptr, %[[I:.*]]: i64, %[[J:.*]]: i64) {
// CHECK-NEXT:    %[[P:.*]] = llvm.getelementptr inbounds %[[B]][%[[I]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK-NEXT:    %[[X:.*]] = llvm.load %[[P]] {alignment = 4 : i64} : !llvm.ptr -> vector<8xf32>
// CHECK-NEXT:    %[[Q:.*]] = llvm.getelementptr inbounds %[[B]][%[[J]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK-NEXT:    llvm.store %[[X]], %[[Q]] {alignment = 4 : i64} : vector<8xf32>, !llvm.ptr
// CHECK-NEXT:    llvm.return
func.func @load_store(%b: memref<?xf32>, %i: index, %j: index) {
  %x = vector.load %b[%i] : memref<?xf32>, vector<8xf32>
  vector.store %x, %b[%j] : memref<?xf32>, vector<8xf32>
  func.return
}

// -----

// broadcast: the scalar inserted in lane 0 of an undef vector, then shuffled to every lane.
// CHECK-LABEL: llvm.func @broadcast
// CHECK-SAME:    (%[[S:.*]]: f64) -> vector<4xf64> {
// CHECK-NEXT:    %[[ZERO:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT:    %[[U:.*]] = llvm.mlir.undef : vector<4xf64>
// CHECK-NEXT:    %[[ONE:.*]] = llvm.insertelement %[[S]], %[[U]][%[[ZERO]] : i32] : vector<4xf64>
// CHECK-NEXT:    %[[ALL:.*]] = llvm.shufflevector %[[ONE]], %[[U]] [0, 0, 0, 0] : vector<4xf64>
// CHECK-NEXT:    llvm.return %[[ALL]] : vector<4xf64>
func.func @broadcast(%s: f64) -> vector<4xf64> {
  %v = vector.broadcast %s : f64 to vector<4xf64>
  func.return %v : vector<4xf64>
}

// -----

// fma is llvm.intr.fma, one rounding.
// CHECK-LABEL: llvm.func @fma
// CHECK-SAME:    (%[[A:.*]]: vector<8xf32>, %[[B:.*]]: vector<8xf32>, %[[C:.*]]: vector<8xf32>) -> vector<8xf32> {
// CHECK-NEXT:    %[[R:.*]] = llvm.intr.fma(%[[A]], %[[B]], %[[C]]) : (vector<8xf32>, vector<8xf32>, vector<8xf32>) -> vector<8xf32>
// CHECK-NEXT:    llvm.return %[[R]] : vector<8xf32>
func.func @fma(%a: vector<8xf32>, %b: vector<8xf32>, %c: vector<8xf32>) -> vector<8xf32> {
  %r = vector.fma %a, %b, %c : vector<8xf32>
  func.return %r : vector<8xf32>
}
