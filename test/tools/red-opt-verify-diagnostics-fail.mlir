// --verify-diagnostics fails (exit code 1) when an expectation does not match: each unmatched
// diagnostic is "unexpected", each unmatched annotation "was not produced", both located.
// RUN: not red-opt %s --split-input-file --verify-diagnostics -o %t.out 2>&1 | filecheck %s
// CHECK-NOT: Traceback

// A wrong message: the real error is unexpected and the annotation is not produced.
// CHECK:      red-opt-verify-diagnostics-fail.mlir:[[# @LINE + 4]]:3: error: unexpected error: 'red.add' op operand shapes 2x3 and 4 do not broadcast
// CHECK-NEXT: red-opt-verify-diagnostics-fail.mlir:[[# @LINE + 2]]:6: error: expected error "'red.add' op operand shapes 2x3 and 5 do not broadcast" was not produced
func.func @wrong_message(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'red.add' op operand shapes 2x3 and 5 do not broadcast}}
  %c = red.add %a, %b : tensor<2x3xf32>, tensor<4xf32> -> tensor<2x3xf32>
  func.return %c : tensor<2x3xf32>
}

// -----

// An expectation on a valid op.
// CHECK-NEXT: red-opt-verify-diagnostics-fail.mlir:[[# @LINE + 2]]:6: error: expected error "'red.exp' op expected a floating-point element type" was not produced
func.func @valid_op(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'red.exp' op expected a floating-point element type}}
  %c = red.exp %a : tensor<4xf32>
  func.return %c : tensor<4xf32>
}

// -----

// The right message on the wrong line.
// CHECK-NEXT: red-opt-verify-diagnostics-fail.mlir:[[# @LINE + 4]]:3: error: unexpected error: 'red.log' op expected a floating-point element type, got 'i32'
// CHECK-NEXT: red-opt-verify-diagnostics-fail.mlir:[[# @LINE + 2]]:6: error: expected error "'red.log' op expected a floating-point element type, got 'i32'" was not produced
func.func @wrong_line(%a: tensor<4xi32>) -> tensor<4xi32> {
  // expected-error @+2 {{'red.log' op expected a floating-point element type, got 'i32'}}
  %c = red.log %a : tensor<4xi32>
  func.return %c : tensor<4xi32>
}

// -----

// The right message with the wrong severity.
// CHECK-NEXT: red-opt-verify-diagnostics-fail.mlir:[[# @LINE + 4]]:3: error: unexpected error: 'red.sin' op expected a floating-point element type, got 'i16'
// CHECK-NEXT: red-opt-verify-diagnostics-fail.mlir:[[# @LINE + 2]]:6: error: expected warning "'red.sin' op expected a floating-point element type, got 'i16'" was not produced
func.func @wrong_kind(%a: tensor<4xi16>) -> tensor<4xi16> {
  // expected-warning @+1 {{'red.sin' op expected a floating-point element type, got 'i16'}}
  %c = red.sin %a : tensor<4xi16>
  func.return %c : tensor<4xi16>
}

// -----

// An error nobody expected.
// CHECK-NEXT: red-opt-verify-diagnostics-fail.mlir:[[# @LINE + 2]]:3: error: unexpected error: 'red.sqrt' op expected a floating-point element type, got 'i64'
func.func @unannotated(%a: tensor<4xi64>) -> tensor<4xi64> {
  %c = red.sqrt %a : tensor<4xi64>
  func.return %c : tensor<4xi64>
}

// -----

// A matching expectation adds nothing to the output.
// CHECK-NOT: {{.}}
func.func @matching(%a: tensor<4xi8>) -> tensor<4xi8> {
  // expected-error @+1 {{'red.cos' op expected a floating-point element type, got 'i8'}}
  %c = red.cos %a : tensor<4xi8>
  func.return %c : tensor<4xi8>
}
