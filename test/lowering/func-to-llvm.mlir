// RUN: red-opt %s -p convert-to-llvm --split-input-file | filecheck %s

// A public function keeps external linkage, a private one becomes internal, a declaration
// stays an external declaration; memref arguments are pointers and index is i64.
// CHECK:       llvm.func @declared(!llvm.ptr, i64) -> f32
// CHECK-NEXT:  llvm.func internal @private_helper(%[[A:.*]]: !llvm.ptr) {
// CHECK-NEXT:    llvm.return
// CHECK-NEXT:  }
// CHECK-NEXT:  llvm.func @public(%[[X:.*]]: !llvm.ptr, %[[N:.*]]: i64) -> f32 {
// CHECK-NEXT:    %[[R:.*]] = llvm.call @declared(%[[X]], %[[N]]) : (!llvm.ptr, i64) -> f32
// CHECK-NEXT:    llvm.call @private_helper(%[[X]]) : (!llvm.ptr) -> ()
// CHECK-NEXT:    llvm.return %[[R]] : f32
// CHECK-NEXT:  }
func.func private @declared(%a: memref<4xf32>, %n: index) -> f32
func.func private @private_helper(%a: memref<4xf32>) {
  func.return
}
func.func @public(%x: memref<4xf32>, %n: index) -> f32 {
  %r = func.call @declared(%x, %n) : (memref<4xf32>, index) -> f32
  func.call @private_helper(%x) : (memref<4xf32>) -> ()
  func.return %r : f32
}

// -----

// A function with no result returns void.
// CHECK-LABEL: llvm.func @no_result()
// CHECK-NEXT:    llvm.return
// CHECK-NEXT:  }
func.func @no_result() {
  func.return
}

// -----

// Functions already in the llvm dialect are kept as they are.
// CHECK-LABEL: llvm.func @already_llvm
// CHECK-SAME:    (%[[A:.*]]: i64) -> i64 {
// CHECK-NEXT:    llvm.return %[[A]] : i64
llvm.func @already_llvm(%a: i64) -> i64 {
  llvm.return %a : i64
}
