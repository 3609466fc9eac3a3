// RUN: red-opt %s -p convert-to-llvm --split-input-file | filecheck %s

// A memref is a pointer to its row-major data: an access is one getelementptr inbounds at the
// linear index (no ptrtoint/inttoptr), loads and stores aligned like one element. The
// stride constant is made once, at the top of the function.
// CHECK-LABEL: llvm.func @load_store_2d
// CHECK-SAME:    (%[[A:.*]]: !llvm.ptr, %[[I:.*]]: i64, %[[J:.*]]: i64) {
// CHECK-NEXT:    %[[ROW:.*]] = llvm.mlir.constant(8) : i64
// CHECK-NEXT:    %[[IR:.*]] = llvm.mul %[[I]], %[[ROW]] : i64
// CHECK-NEXT:    %[[LIN:.*]] = llvm.add %[[IR]], %[[J]] : i64
// CHECK-NEXT:    %[[P:.*]] = llvm.getelementptr inbounds %[[A]][%[[LIN]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK-NEXT:    %[[X:.*]] = llvm.load %[[P]] {alignment = 4 : i64} : !llvm.ptr -> f32
// CHECK-NEXT:    %[[JR:.*]] = llvm.mul %[[J]], %[[ROW]] : i64
// CHECK-NEXT:    %[[LIN2:.*]] = llvm.add %[[JR]], %[[I]] : i64
// CHECK-NEXT:    %[[Q:.*]] = llvm.getelementptr inbounds %[[A]][%[[LIN2]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK-NEXT:    llvm.store %[[X]], %[[Q]] {alignment = 4 : i64} : f32, !llvm.ptr
// CHECK-NOT:     llvm.inttoptr
// CHECK:         llvm.return
func.func @load_store_2d(%a: memref<4x8xf32>, %i: index, %j: index) {
  %x = memref.load %a[%i, %j] : memref<4x8xf32>
  memref.store %x, %a[%j, %i] : memref<4x8xf32>
  func.return
}

// -----

// The last dimension has stride 1: no multiply. A dynamic 1-D memref is the same pointer.
// CHECK-LABEL: llvm.func @load_1d_dynamic
// CHECK-SAME:    (%[[V:.*]]: !llvm.ptr, %[[I:.*]]: i64) -> f64 {
// CHECK-NEXT:    %[[P:.*]] = llvm.getelementptr inbounds %[[V]][%[[I]]] : (!llvm.ptr, i64) -> !llvm.ptr, f64
// CHECK-NEXT:    %[[X:.*]] = llvm.load %[[P]] {alignment = 8 : i64} : !llvm.ptr -> f64
// CHECK-NEXT:    llvm.return %[[X]] : f64
func.func @load_1d_dynamic(%v: memref<?xf64>, %i: index) -> f64 {
  %x = memref.load %v[%i] : memref<?xf64>
  func.return %x : f64
}

// -----

// A 0-d memref is read at element 0 of its pointer (a GEP: the base of a rank-0 global is
// an [1 x T] array, which a load of T cannot use directly).
// CHECK-LABEL: llvm.func @load_0d
// CHECK-SAME:    (%[[S:.*]]: !llvm.ptr) -> i64 {
// CHECK-NEXT:    %[[P:.*]] = llvm.getelementptr inbounds %[[S]][0] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK-NEXT:    %[[X:.*]] = llvm.load %[[P]] {alignment = 8 : i64} : !llvm.ptr -> i64
// CHECK-NEXT:    llvm.return %[[X]] : i64
func.func @load_0d(%s: memref<i64>) -> i64 {
  %x = memref.load %s[] : memref<i64>
  func.return %x : i64
}

// -----

// alloc is malloc of the buffer's bytes (i1 takes a byte; an empty buffer still gets one),
// dealloc is free; both are declared once, at the end of the module.
// CHECK-LABEL: llvm.func @alloc_dealloc
// CHECK-NEXT:    %[[N:.*]] = llvm.mlir.constant(15) : i64
// CHECK-NEXT:    %[[ONE:.*]] = llvm.mlir.constant(1) : i64
// CHECK-NEXT:    %[[M:.*]] = llvm.mlir.constant(48) : i64
// CHECK-NEXT:    %[[B:.*]] = llvm.call @malloc(%[[N]]) : (i64) -> !llvm.ptr
// CHECK-NEXT:    %[[E:.*]] = llvm.call @malloc(%[[ONE]]) : (i64) -> !llvm.ptr
// CHECK-NEXT:    %[[F:.*]] = llvm.call @malloc(%[[M]]) : (i64) -> !llvm.ptr
// CHECK-NEXT:    llvm.call @free(%[[B]]) : (!llvm.ptr) -> ()
// CHECK-NEXT:    llvm.call @free(%[[E]]) : (!llvm.ptr) -> ()
// CHECK-NEXT:    llvm.call @free(%[[F]]) : (!llvm.ptr) -> ()
// CHECK-NEXT:    llvm.return
// CHECK:       llvm.func @malloc(i64) -> !llvm.ptr
// CHECK-NEXT:  llvm.func @free(!llvm.ptr)
// CHECK-NOT:   llvm.func @malloc
func.func @alloc_dealloc() {
  %b = memref.alloc() : memref<3x5xi1>
  %e = memref.alloc() : memref<0xf32>
  %f = memref.alloc() : memref<2x3xf64>
  memref.dealloc %b : memref<3x5xi1>
  memref.dealloc %e : memref<0xf32>
  memref.dealloc %f : memref<2x3xf64>
  func.return
}

// -----

// memref.global becomes an internal llvm global: a flat array, 64-byte aligned, with the
// value's bytes (a splat expanded to every element), or zeroed (red.zero_init, which the
// LLVM IR emitter turns into zeroinitializer); get_global is its address.
// CHECK:       llvm.mlir.global internal constant @table(dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]> : tensor<4xf32>) {addr_space = 0 : i32, alignment = 64 : i64} : !llvm.array<4 x f32>
// CHECK-NEXT:  llvm.mlir.global internal constant @splat(dense<5> : tensor<3xi32>) {addr_space = 0 : i32, alignment = 64 : i64} : !llvm.array<3 x i32>
// CHECK-NEXT:  llvm.mlir.global internal @flag() {addr_space = 0 : i32, alignment = 64 : i64, red.zero_init} : !llvm.array<1 x i8>
// CHECK-LABEL: llvm.func @globals
// CHECK-NEXT:    %[[ZERO:.*]] = llvm.mlir.constant(0) : i64
// CHECK-NEXT:    %[[T:.*]] = llvm.mlir.addressof @table : !llvm.ptr
// CHECK-NEXT:    %[[F:.*]] = llvm.mlir.addressof @flag : !llvm.ptr
// CHECK-NEXT:    %[[P:.*]] = llvm.getelementptr inbounds %[[F]][%[[ZERO]]] : (!llvm.ptr, i64) -> !llvm.ptr, i8
// CHECK-NEXT:    llvm.load %[[P]] {alignment = 1 : i64} : !llvm.ptr -> i8
"memref.global"() <{sym_name = "table", type = memref<2x2xf32>, initial_value = dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>, sym_visibility = "private", constant}> : () -> ()
"memref.global"() <{sym_name = "splat", type = memref<3xi32>, initial_value = dense<5> : tensor<3xi32>, sym_visibility = "private", constant}> : () -> ()
"memref.global"() <{sym_name = "flag", type = memref<1xi8>, initial_value, sym_visibility = "private"}> : () -> ()
func.func @globals() -> i8 {
  %t = memref.get_global @table : memref<2x2xf32>
  %f = memref.get_global @flag : memref<1xi8>
  %zero = arith.constant 0 : index
  %x = memref.load %f[%zero] : memref<1xi8>
  func.return %x : i8
}

// -----

// Views are the same pointer: a row-major reinterpret_cast at offset 0, and a cast between
// static and dynamic sizes; extract_aligned_pointer_as_index is ptrtoint.
// CHECK-LABEL: llvm.func @views
// CHECK-SAME:    (%[[A:.*]]: !llvm.ptr, %[[I:.*]]: i64) -> i64 {
// CHECK-NEXT:    %[[P:.*]] = llvm.getelementptr inbounds %[[A]][%[[I]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK-NEXT:    llvm.load %[[P]] {alignment = 4 : i64} : !llvm.ptr -> f32
// CHECK-NEXT:    %[[ADDR:.*]] = llvm.ptrtoint %[[A]] : !llvm.ptr to i64
// CHECK-NEXT:    llvm.return %[[ADDR]] : i64
func.func @views(%a: memref<4x8xf32>, %i: index) -> index {
  %r = memref.reinterpret_cast %a to offset: [0], sizes: [32], strides: [1] : memref<4x8xf32> to memref<32xf32>
  %c = "memref.cast"(%r) : (memref<32xf32>) -> memref<?xf32>
  %x = memref.load %c[%i] : memref<?xf32>
  %p = "memref.extract_aligned_pointer_as_index"(%c) : (memref<?xf32>) -> index
  func.return %p : index
}

// -----

// index elements are i64 in memory too.
// CHECK-LABEL: llvm.func @index_elements
// CHECK-SAME:    (%[[M:.*]]: !llvm.ptr, %[[I:.*]]: i64) -> i64 {
// CHECK-NEXT:    %[[P:.*]] = llvm.getelementptr inbounds %[[M]][%[[I]]] : (!llvm.ptr, i64) -> !llvm.ptr, i64
// CHECK-NEXT:    %[[X:.*]] = llvm.load %[[P]] {alignment = 8 : i64} : !llvm.ptr -> i64
// CHECK-NEXT:    llvm.return %[[X]] : i64
func.func @index_elements(%m: memref<4xindex>, %i: index) -> index {
  %x = memref.load %m[%i] : memref<4xindex>
  func.return %x : index
}

// -----

// A kernel library call: a memref cast to !llvm.ptr is the same pointer, and an absent
// optional operand is llvm.mlir.zero (the null pointer).
// CHECK:       llvm.func @red_rms_norm_f32(i64, i64, !llvm.ptr, i64, !llvm.ptr, i64, f32, !llvm.ptr, i32)
// CHECK-LABEL: llvm.func @kernel_call_pointers
// CHECK-SAME:    (%[[X:.*]]: !llvm.ptr, %[[Y:.*]]: !llvm.ptr, %[[N:.*]]: i64) {
// CHECK-DAG:     %[[EPS:.*]] = llvm.mlir.constant(1.000000e-06 : f32) : f32
// CHECK-DAG:     %[[T:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK:         %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK-NEXT:    llvm.call @red_rms_norm_f32(%[[N]], %[[N]], %[[X]], %[[N]], %[[Y]], %[[N]], %[[EPS]], %[[NULL]], %[[T]]) : (i64, i64, !llvm.ptr, i64, !llvm.ptr, i64, f32, !llvm.ptr, i32) -> ()
// CHECK-NOT:     unrealized_conversion_cast
func.func private @red_rms_norm_f32(i64, i64, !llvm.ptr, i64, !llvm.ptr, i64, f32, !llvm.ptr, i32)
func.func @kernel_call_pointers(%x: memref<4x8xf32>, %y: memref<4x8xf32>, %n: i64) {
  %eps = arith.constant 1.0e-06 : f32
  %t = arith.constant 0 : i32
  %px = builtin.unrealized_conversion_cast %x : memref<4x8xf32> to !llvm.ptr
  %py = builtin.unrealized_conversion_cast %y : memref<4x8xf32> to !llvm.ptr
  %null = llvm.mlir.zero : !llvm.ptr
  func.call @red_rms_norm_f32(%n, %n, %px, %n, %py, %n, %eps, %null, %t) : (i64, i64, !llvm.ptr, i64, !llvm.ptr, i64, f32, !llvm.ptr, i32) -> ()
  func.return
}
