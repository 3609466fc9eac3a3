// RUN: red-opt %s -p convert-to-llvm --split-input-file --verify-diagnostics

// An op without a conversion rule is a located error naming it.
func.func @no_rule(%a: i32) -> i32 {
  %s = arith.shli %a, %a : i32 // expected-error {{'arith.shli' op cannot be converted to the llvm dialect}}
  func.return %s : i32
}

// -----

// Structured control flow must go through convert-scf-to-cf first.
func.func @scf_left(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 { // expected-error {{'scf.for' op cannot be converted to the llvm dialect}}
  }
  func.return
}

// -----

// One result at most (an llvm function returns one value).
// expected-error @below {{'@two_results' has 2 results: convert-to-llvm handles one}}
func.func @two_results(%a: i64) -> (i64, i64) {
  func.return %a, %a : i64, i64
}

// -----

// libm has no vector tanh.
func.func @vector_tanh(%v: vector<4xf64>) -> vector<4xf64> {
  %t = math.tanh %v : vector<4xf64> // expected-error {{'math.tanh' op on 'vector<4xf64>' is not supported}}
  func.return %t : vector<4xf64>
}

// -----

// A view at an offset would need pointer arithmetic the lowering does not emit.
func.func @offset_view(%a: memref<8xf32>) {
  // expected-error @below {{a reinterpret_cast with an offset is not supported}}
  %r = memref.reinterpret_cast %a to offset: [2], sizes: [4], strides: [1] : memref<8xf32> to memref<4xf32, strided<[1], offset: 2>>
  func.return
}

// -----

// A strided (transposed) view is not contiguous row-major data.
func.func @strided_view(%a: memref<2x3xf32>) {
  // expected-error @below {{a reinterpret_cast with non-row-major strides is not supported}}
  %r = memref.reinterpret_cast %a to offset: [0], sizes: [3, 2], strides: [1, 3] : memref<2x3xf32> to memref<3x2xf32, strided<[1, 3]>>
  func.return
}

// -----

// Dynamic sizes beyond the first dimension would need strides as values.
func.func @dynamic_stride(%a: memref<4x?xf32>, %i: index) -> f32 {
  %x = memref.load %a[%i, %i] : memref<4x?xf32> // expected-error {{'memref.load' op on 'memref<4x?xf32>' (a dynamic stride) is not supported}}
  func.return %x : f32
}
