// RUN: red-opt %s -p convert-red-to-loops --split-input-file --verify-diagnostics

// Shapes must be static (DESIGN.md §2: dynamic shapes are a later lowering feature).
// expected-error @below {{'@dynamic' has a dynamic shape 'tensor<?x4xf32>': the lowering needs static shapes}}
func.func @dynamic(%a: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %e = red.exp %a : tensor<?x4xf32>
  func.return %e : tensor<?x4xf32>
}

// -----

// Arguments and results are tensors (the C ABI passes one buffer per tensor).
// expected-error @below {{'@scalar_argument' has a non-tensor argument or result 'f32'}}
func.func @scalar_argument(%s: f32) -> tensor<2xf32> {
  %c = red.constant dense<1.0> : tensor<2xf32>
  func.return %c : tensor<2xf32>
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

// A scalar arith.constant is not a tensor value.
func.func @scalar_constant(%a: tensor<2xf32>) -> tensor<2xf32> {
  %c = arith.constant 1.0 : f32 // expected-error {{'arith.constant' op is not supported by the lowering}}
  func.return %a : tensor<2xf32>
}

// -----

// argmax over an empty axis has no result (numpy raises).
func.func @argmax_empty(%a: tensor<3x0xf32>) -> tensor<3xi64> {
  %i = red.argmax %a axis = 1 : tensor<3x0xf32> -> tensor<3xi64> // expected-error {{'red.argmax' op over an empty axis has no result}}
  func.return %i : tensor<3xi64>
}
