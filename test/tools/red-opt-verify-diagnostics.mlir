// The annotation forms --verify-diagnostics accepts: on the same line, @below, @above, @+N,
// @-N, notes, and parse errors. Chunks without diagnostics are printed.
// RUN: red-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @same_line(%a: tensor<4xi32>) -> tensor<4xi32> {
  %c = red.exp %a : tensor<4xi32> // expected-error {{'red.exp' op expected a floating-point element type, got 'i32'}}
  func.return %c : tensor<4xi32>
}

// -----

func.func @below(%a: tensor<4xi32>) -> tensor<4xi32> {
  // expected-error @below {{'red.tanh' op expected a floating-point element type, got 'i32'}}
  %c = red.tanh %a : tensor<4xi32>
  func.return %c : tensor<4xi32>
}

// -----

func.func @above(%a: tensor<4xi1>) -> tensor<4xi1> {
  %c = red.neg %a : tensor<4xi1>
  // expected-error @above {{'red.neg' op expected a numeric element type, got 'i1'}}
  func.return %c : tensor<4xi1>
}

// -----

func.func @minus_offset(%a: tensor<2x3xf32>) -> tensor<3x3xf32> {
  %t = red.transpose %a [0, 1] : tensor<2x3xf32> -> tensor<3x3xf32>

  // expected-error @-2 {{'red.transpose' op expected result type 'tensor<2x3xf32>', got 'tensor<3x3xf32>'}}
  func.return %t : tensor<3x3xf32>
}

// -----

func.func @note(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{operand #0 does not dominate this use}}
  %b = red.neg %c : tensor<4xf32>
  // expected-note @+1 {{operand defined here}}
  %c = red.exp %a : tensor<4xf32>
  func.return %b : tensor<4xf32>
}

// -----

func.func @parse_error(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{use of undeclared SSA value name '%nope'}}
  %c = red.exp %nope : tensor<4xf32>
  func.return %c : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @printed
// CHECK-NEXT:    func.return
// CHECK-NOT:   func.func
func.func @printed(%a: tensor<4xf32>) -> tensor<4xf32> {
  func.return %a : tensor<4xf32>
}
