// RUN: red-opt %s -p convert-red-to-loops --split-input-file --verify-diagnostics

// Dynamic shapes take the sized ABI, which private functions (called without sizes) lack.
// expected-error @below {{'@dynamic' is private and has dynamic shapes: the lowering handles dynamic shapes in public functions (the sized ABI)}}
func.func private @dynamic(%a: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %e = red.exp %a : tensor<?x4xf32>
  func.return %e : tensor<?x4xf32>
}

// -----

// Results are tensors (the C ABI writes each into a buffer passed by the caller).
// expected-error @below {{'@scalar_result' has a non-tensor result 'f32'}}
func.func @scalar_result(%a: tensor<2xf32>, %s: f32) -> f32 {
  func.return %s : f32
}

// -----

// An argument is a tensor or a scalar (index, integer, float: passed by value).
// expected-error @below {{'@memref_argument' has an argument of type 'memref<2xf32>'}}
func.func @memref_argument(%m: memref<2xf32>, %a: tensor<2xf32>) -> tensor<2xf32> {
  func.return %a : tensor<2xf32>
}

// -----

// A body is needed to lower.
// expected-error @below {{'@declared' is a declaration: the lowering needs bodies}}
func.func private @declared(%a: tensor<2xf32>) -> tensor<2xf32>
func.func @caller(%a: tensor<2xf32>) -> tensor<2xf32> {
  %r = func.call @declared(%a) : (tensor<2xf32>) -> tensor<2xf32>
  func.return %r : tensor<2xf32>
}

// -----

// One block per function (scf over tensors is a later lowering feature).
// expected-error @below {{'@two_blocks' has 2 blocks: the lowering handles one}}
func.func @two_blocks(%a: tensor<2xf32>) -> tensor<2xf32> {
  cf.br ^bb1
^bb1:
  func.return %a : tensor<2xf32>
}

// -----

// An op with no lowering rule is a located error naming it.
func.func @no_rule(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %e = tensor.empty() : tensor<2x3xf32> // expected-error {{'tensor.empty' op is not supported by the lowering}}
  func.return %e : tensor<2x3xf32>
}

// -----

// Scalars are copied from arith/math ops; tensor.dim gives a size, of a dim known statically.
func.func @dim_at_run_time(%a: tensor<2xf32>, %i: index) -> tensor<2xf32> {
  %d = tensor.dim %a, %i : tensor<2xf32> // expected-error {{'tensor.dim' op with a dim that is not a constant}}
  func.return %a : tensor<2xf32>
}

// -----

// argmax over an empty axis has no result (numpy raises).
func.func @argmax_empty(%a: tensor<3x0xf32>) -> tensor<3xi64> {
  %i = red.argmax %a axis = 1 : tensor<3x0xf32> -> tensor<3xi64> // expected-error {{'red.argmax' op over an empty axis has no result}}
  func.return %i : tensor<3xi64>
}

// -----

// The C ABI has no element type for index (use i64), in a signature ...
// expected-error @below {{'@index_elements' has tensors of 'index' elements, which the C ABI has no type for (use i64) ('tensor<4xindex>')}}
func.func @index_elements(%x: tensor<4xindex>) -> tensor<4xindex> {
  %y = red.add %x, %x : tensor<4xindex>, tensor<4xindex> -> tensor<4xindex>
  func.return %y : tensor<4xindex>
}

// -----

// ... or inside a function.
func.func @index_inside(%x: tensor<4xi64>) -> tensor<4xi64> {
  %i = red.iota dim = 0 : tensor<4xindex> // expected-error {{'red.iota' op makes tensors of 'index' elements, which the C ABI has no type for (use i64)}}
  func.return %x : tensor<4xi64>
}

// -----

// A function whose lowered name is the exported memo reset function's.
// expected-error @below {{'@red_memo_reset' lowers to '@red_memo_reset', which is also the memo reset function the lowering exports}}
func.func private @red_memo_reset(%x: tensor<2xf32>) -> tensor<2xf32> {
  func.return %x : tensor<2xf32>
}

// -----

// Public @main is @red_main in the C ABI: a private @red_main clashes (before or after it).
// expected-error @below {{'@red_main' lowers to '@red_main', which is also the C name of the public function '@main'}}
func.func private @red_main(%x: tensor<2xf32>) -> tensor<2xf32> {
  func.return %x : tensor<2xf32>
}
func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
  %y = func.call @red_main(%x) : (tensor<2xf32>) -> tensor<2xf32>
  func.return %y : tensor<2xf32>
}

// -----

// A public function whose C name is the memo reset function's.
// expected-error @below {{'@memo_reset' lowers to '@red_memo_reset', which is also the memo reset function the lowering exports}}
func.func @memo_reset(%x: tensor<2xf32>) -> tensor<2xf32> {
  func.return %x : tensor<2xf32>
}

// -----

// A function named like the matmul kernel the lowering calls.
// expected-error @below {{'@red_sgemm' lowers to '@red_sgemm', which is also a function the lowering adds}}
func.func private @red_sgemm(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %y = red.matmul %x, %x : tensor<2x2xf32>, tensor<2x2xf32> -> tensor<2x2xf32>
  func.return %y : tensor<2x2xf32>
}

// -----

// scf.while over tensors has no lowering rule yet (the derived generation code uses scf.for).
func.func @while_over_tensors(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @below {{'scf.while' op is not supported by the lowering}}
  %r = scf.while (%a = %x) : (tensor<2xf32>) -> tensor<2xf32> {
    %c = arith.constant false
    scf.condition(%c) %a : tensor<2xf32>
  } do {
  ^bb0(%b: tensor<2xf32>):
    scf.yield %b : tensor<2xf32>
  }
  func.return %r : tensor<2xf32>
}
