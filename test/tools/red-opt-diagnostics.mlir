// Bad input gets `file:line:col: error: message` (one per chunk, in chunk order), exit code 1,
// and never a Python traceback. Line numbers count from the top of the file, not the chunk.
// RUN: not red-opt %s --split-input-file -o %t.out 2>&1 | filecheck %s
// Each diagnostic follows the previous one (CHECK-NEXT), so nothing else is printed between.
// CHECK-NOT: Traceback

// Malformed syntax: the unclosed type is reported at the next token.
// CHECK: red-opt-diagnostics.mlir:[[# @LINE + 3]]:3: error: Expected '>' after builtin parameter list
func.func @malformed_type(%a: tensor<4xf32>) -> tensor<4xf32> {
  %b = red.exp %a : tensor<4xf32
  func.return %b : tensor<4xf32>
}

// -----

// CHECK-NEXT: red-opt-diagnostics.mlir:[[# @LINE + 2]]:6: error: Expected '=' after operation result list
func.func @missing_equals(%a: tensor<4xf32>) -> tensor<4xf32> {
  %b red.exp %a : tensor<4xf32>
  func.return %b : tensor<4xf32>
}

// -----

// A missing `}` runs into the end of the chunk, just before the next separator.
// CHECK-NEXT: red-opt-diagnostics.mlir:[[# @LINE + 4]]:1: error: unexpected end of input
func.func @missing_brace(%a: tensor<4xf32>) -> tensor<4xf32> {
  func.return %a : tensor<4xf32>

// -----

// CHECK-NEXT: red-opt-diagnostics.mlir:[[# @LINE + 2]]:8: error: custom op 'red.frobnicate' is unknown
func.func @unknown_op(%a: tensor<4xf32>) -> tensor<4xf32> {
  %b = red.frobnicate %a : tensor<4xf32>
  func.return %b : tensor<4xf32>
}

// -----

// CHECK-NEXT: red-opt-diagnostics.mlir:[[# @LINE + 2]]:8: error: unregistered operation 'foo.bar' found in dialect ('foo') that does not allow unknown operations (use --allow-unregistered-dialect)
func.func @unknown_generic_op(%a: tensor<4xf32>) -> tensor<4xf32> {
  %b = "foo.bar"(%a) : (tensor<4xf32>) -> tensor<4xf32>
  func.return %b : tensor<4xf32>
}

// -----

// An SSA value used with another type than its definition's.
// CHECK-NEXT: red-opt-diagnostics.mlir:[[# @LINE + 3]]:16: error: operand is used with type tensor<5xf32>, but has been previously used or defined with type tensor<4xf32>
func.func @operand_type_mismatch(%a: tensor<4xf32>) -> tensor<4xf32> {
  %b = red.exp %a : tensor<4xf32>
  %c = red.neg %b : tensor<5xf32>
  func.return %b : tensor<4xf32>
}

// -----

// An undefined value is reported at its first use, not at the end of the input.
// CHECK-NEXT: red-opt-diagnostics.mlir:[[# @LINE + 3]]:16: error: use of undeclared SSA value name '%zz'
func.func @undefined_value(%a: tensor<4xf32>) -> tensor<4xf32> {
  %b = red.exp %a : tensor<4xf32>
  %c = red.add %zz, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %c : tensor<4xf32>
}

// -----

// CHECK-NEXT: red-opt-diagnostics.mlir:[[# @LINE + 3]]:3: error: SSA value %b is already defined
func.func @redefined_value(%a: tensor<4xf32>) -> tensor<4xf32> {
  %b = red.exp %a : tensor<4xf32>
  %b = red.neg %a : tensor<4xf32>
  func.return %b : tensor<4xf32>
}

// -----

// CHECK-NEXT: red-opt-diagnostics.mlir:[[# @LINE + 1]]:56: error: 'foo.bar' is not registered
func.func @unknown_type(%a: tensor<4xf32>, %b: !foo.bar) -> tensor<4xf32> {
  func.return %a : tensor<4xf32>
}

// -----

// A verifier error points at the op and shows it in generic form.
// CHECK-NEXT: red-opt-diagnostics.mlir:[[# @LINE + 3]]:3: error: 'red.matmul' op contracting dimensions differ: lhs has 3, rhs has 4
// CHECK-NEXT: red-opt-diagnostics.mlir:[[# @LINE + 2]]:3: note: see current operation: %c = "red.matmul"(%a, %b) : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
func.func @verifier_error(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  %c = red.matmul %a, %b : tensor<2x3xf32>, tensor<4x5xf32> -> tensor<2x5xf32>
  func.return %c : tensor<2x5xf32>
}

// -----

// xDSL does not check dominance; red does, and notes where the operand is defined.
// CHECK-NEXT: red-opt-diagnostics.mlir:[[# @LINE + 4]]:3: error: 'red.neg' op operand #0 does not dominate this use
// CHECK-NEXT: red-opt-diagnostics.mlir:[[# @LINE + 4]]:3: note: operand defined here
// CHECK-NEXT: red-opt-diagnostics.mlir:[[# @LINE + 2]]:3: note: see current operation: %b = "red.neg"(%c) : (tensor<4xf32>) -> tensor<4xf32>
func.func @use_before_def(%a: tensor<4xf32>) -> tensor<4xf32> {
  %b = red.neg %c : tensor<4xf32>
  %c = red.exp %a : tensor<4xf32>
  func.return %b : tensor<4xf32>
}

// -----

// The last chunk still runs after earlier failures; nothing follows its diagnostic.
// CHECK-NEXT: red-opt-diagnostics.mlir:[[# @LINE + 4]]:3: error: 'func.return' op Expected arguments to have the same types as the function output types: expected [tensor<5xf32>], got [tensor<4xf32>]
// CHECK-NEXT: red-opt-diagnostics.mlir:[[# @LINE + 3]]:3: note: see current operation: "func.return"(%a) : (tensor<4xf32>) -> ()
// CHECK-NOT: {{.}}
func.func @return_type(%a: tensor<4xf32>) -> tensor<5xf32> {
  func.return %a : tensor<4xf32>
}
