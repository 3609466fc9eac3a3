// RUN: red-opt %s --split-input-file --verify-diagnostics

func.func @matmul_contracting(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{'red.matmul' op contracting dimensions differ: lhs has 3, rhs has 4}}
  %c = red.matmul %a, %b : tensor<2x3xf32>, tensor<4x5xf32> -> tensor<2x5xf32>
  func.return %c : tensor<2x5xf32>
}

// -----

func.func @add_no_broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'red.add' op operand shapes 2x3 and 4 do not broadcast}}
  %c = red.add %a, %b : tensor<2x3xf32>, tensor<4xf32> -> tensor<2x3xf32>
  func.return %c : tensor<2x3xf32>
}

// -----

func.func @transpose_bad_perm(%a: tensor<2x3x4xf32>) -> tensor<3x2x4xf32> {
  // expected-error @+1 {{'red.transpose' op permutation [1, 1, 0] is not a permutation of 0..2 (input rank 3)}}
  %t = red.transpose %a [1, 1, 0] : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
  func.return %t : tensor<3x2x4xf32>
}

// -----

func.func @reshape_count(%a: tensor<2x6xf32>) -> tensor<5x4xf32> {
  // expected-error @+1 {{'red.reshape' op reshape changes the element count: input 2x6 has 12, result 5x4 has 20}}
  %r = red.reshape %a : tensor<2x6xf32> -> tensor<5x4xf32>
  func.return %r : tensor<5x4xf32>
}

// -----

func.func @use_before_def(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{operand #0 does not dominate this use}}
  %b = red.neg %c : tensor<4xf32>
  %c = red.exp %a : tensor<4xf32>
  func.return %b : tensor<4xf32>
}
