// RUN: red-opt %s -p convert-red-to-loops --split-input-file --verify-diagnostics

// Dynamic shapes the lowering refuses, each a located error naming the op.

// A size nothing derives from the arguments' sizes.
func.func @unsized_iota(%x: tensor<?xf32> {red.dims = ["n"]}) -> tensor<?xi64> {
  // expected-error @below {{'red.iota' op has a dynamic size the lowering cannot compute from the arguments' sizes ('?0')}}
  %i = red.iota dim = 0 : tensor<?xi64>
  func.return %i : tensor<?xi64>
}

// -----

// The sized ABI is a public function's: a private one is called without sizes.
// expected-error @below {{'@helper' is private and has dynamic shapes: the lowering handles dynamic shapes in public functions (the sized ABI)}}
func.func private @helper(%x: tensor<?xf32>) -> tensor<?xf32> {
  %e = red.exp %x : tensor<?xf32>
  func.return %e : tensor<?xf32>
}

// -----

func.func @callee(%x: tensor<?xf32> {red.dims = ["n"]}) -> tensor<?xf32> {
  %e = red.exp %x : tensor<?xf32>
  func.return %e : tensor<?xf32>
}

func.func @caller(%x: tensor<?xf32> {red.dims = ["n"]}) -> tensor<?xf32> {
  // expected-error @below {{'func.call' op on 'tensor<?xf32>': calls with dynamic shapes are not supported}}
  %r = func.call @callee(%x) : (tensor<?xf32>) -> tensor<?xf32>
  func.return %r : tensor<?xf32>
}

// -----

// A memo's cache is a module global of a fixed size.
func.func @dynamic_memo(%w: tensor<?x4xf32> {red.invariant, red.dims = ["n", ""]}) -> tensor<4x?xf32> {
  // expected-error @below {{'red.memo' op caching 'tensor<4x?xf32>': a memo of a dynamic shape is not supported}}
  %t = red.memo(%w) : (tensor<?x4xf32>) -> tensor<4x?xf32> {
  ^bb0(%a: tensor<?x4xf32>):
    %r = red.transpose %a [1, 0] : tensor<?x4xf32> -> tensor<4x?xf32>
    red.yield %r : tensor<4x?xf32>
  }
  func.return %t : tensor<4x?xf32>
}

// -----

// A batch dim of `b` rows against one of `c`: either may be 1 at run time (a broadcast).
func.func @broadcast_batch(%a: tensor<?x2x3xf32> {red.dims = ["b", "", ""]}, %w: tensor<?x3x4xf32> {red.dims = ["c", "", ""]}) -> tensor<?x2x4xf32> {
  // expected-error @below {{'red.matmul' op broadcasts a dynamic batch dim: not supported by the lowering}}
  %y = red.matmul %a, %w : tensor<?x2x3xf32>, tensor<?x3x4xf32> -> tensor<?x2x4xf32>
  func.return %y : tensor<?x2x4xf32>
}
