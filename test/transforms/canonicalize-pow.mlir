// RUN: red-opt %s -p 'canonicalize{reassoc=true test-convergence=true}' --split-input-file | filecheck %s
// RUN: red-opt %s -p 'canonicalize{test-convergence=true}' --split-input-file | filecheck %s --check-prefix=EXACT
// RUN: red-opt %s -p 'canonicalize{fast-math=true test-convergence=true}' --split-input-file | filecheck %s --check-prefix=FAST

// GELU's cube: x**3 is two multiplies (no call of pow per element), with reassoc=true (as
// red-pipeline runs it) or fast-math; plain canonicalize keeps pow (the products are not
// bit-exact against libm's pow).
// EXACT-LABEL: func.func @pow_three
// EXACT:         red.pow
// EXACT-NOT:     red.mul
// CHECK-LABEL: func.func @pow_three
// CHECK-SAME:    (%[[X:.*]]: tensor<4x8xf32>)
// CHECK-NEXT:    %[[SQ:.*]] = red.mul %[[X]], %[[X]] : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
// CHECK-NEXT:    %[[CU:.*]] = red.mul %[[X]], %[[SQ]] : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
// CHECK-NEXT:    func.return %[[CU]]
// CHECK-NOT:     red.pow
func.func @pow_three(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %c = red.constant dense<3.0> : tensor<f32>
  %p = red.pow %x, %c : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  func.return %p : tensor<4x8xf32>
}

// -----

// A splat exponent of the same shape as x counts as well: x**2 is one multiply.
// EXACT-LABEL: func.func @pow_two_splat_tensor
// EXACT:         red.pow
// EXACT-NOT:     red.mul
// CHECK-LABEL: func.func @pow_two_splat_tensor
// CHECK-SAME:    (%[[X:.*]]: tensor<3xf64>)
// CHECK-NEXT:    %[[SQ:.*]] = red.mul %[[X]], %[[X]] : tensor<3xf64>, tensor<3xf64> -> tensor<3xf64>
// CHECK-NEXT:    func.return %[[SQ]]
func.func @pow_two_splat_tensor(%x: tensor<3xf64>) -> tensor<3xf64> {
  %c = red.constant dense<2.0> : tensor<3xf64>
  %p = red.pow %x, %c : tensor<3xf64>, tensor<3xf64> -> tensor<3xf64>
  func.return %p : tensor<3xf64>
}

// -----

// x**4 squares the square.
// EXACT-LABEL: func.func @pow_four
// EXACT:         red.pow
// EXACT-NOT:     red.mul
// CHECK-LABEL: func.func @pow_four
// CHECK-SAME:    (%[[X:.*]]: tensor<5xf32>)
// CHECK-NEXT:    %[[SQ:.*]] = red.mul %[[X]], %[[X]]
// CHECK-NEXT:    %[[Q:.*]] = red.mul %[[SQ]], %[[SQ]]
// CHECK-NEXT:    func.return %[[Q]]
func.func @pow_four(%x: tensor<5xf32>) -> tensor<5xf32> {
  %c = red.constant dense<4.0> : tensor<f32>
  %p = red.pow %x, %c : tensor<5xf32>, tensor<f32> -> tensor<5xf32>
  func.return %p : tensor<5xf32>
}

// -----

// x**-1 is 1 / x (both correctly rounded).
// EXACT-LABEL: func.func @pow_minus_one
// EXACT:         red.pow
// EXACT-NOT:     red.mul
// CHECK-LABEL: func.func @pow_minus_one
// CHECK-SAME:    (%[[X:.*]]: tensor<5xf32>)
// CHECK-NEXT:    %[[ONE:.*]] = red.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[R:.*]] = red.div %[[ONE]], %[[X]] : tensor<f32>, tensor<5xf32> -> tensor<5xf32>
// CHECK-NEXT:    func.return %[[R]]
func.func @pow_minus_one(%x: tensor<5xf32>) -> tensor<5xf32> {
  %c = red.constant dense<-1.0> : tensor<f32>
  %p = red.pow %x, %c : tensor<5xf32>, tensor<f32> -> tensor<5xf32>
  func.return %p : tensor<5xf32>
}

// -----

// x**0.5 is sqrt only under fast-math (pow(-0, 0.5) = +0 and pow(-inf, 0.5) = +inf differ).
// CHECK-LABEL: func.func @no_pow_half_exact
// CHECK:         red.pow
// CHECK-NOT:     red.sqrt
// FAST-LABEL:  func.func @no_pow_half_exact
// FAST-SAME:     (%[[X:.*]]: tensor<5xf32>)
// FAST-NEXT:     %[[S:.*]] = red.sqrt %[[X]] : tensor<5xf32>
// FAST-NEXT:     func.return %[[S]]
func.func @no_pow_half_exact(%x: tensor<5xf32>) -> tensor<5xf32> {
  %c = red.constant dense<0.5> : tensor<f32>
  %p = red.pow %x, %c : tensor<5xf32>, tensor<f32> -> tensor<5xf32>
  func.return %p : tensor<5xf32>
}

// -----

// An exponent that is not a constant stays a pow.
// CHECK-LABEL: func.func @no_pow_variable_exponent
// CHECK-SAME:    (%[[X:.*]]: tensor<5xf32>, %[[E:.*]]: tensor<f32>)
// CHECK-NEXT:    %[[P:.*]] = red.pow %[[X]], %[[E]]
// CHECK-NEXT:    func.return %[[P]]
func.func @no_pow_variable_exponent(%x: tensor<5xf32>, %e: tensor<f32>) -> tensor<5xf32> {
  %p = red.pow %x, %e : tensor<5xf32>, tensor<f32> -> tensor<5xf32>
  func.return %p : tensor<5xf32>
}

// -----

// Non-integer exponents (other than 0.5 under fast-math) and large ones stay pows.
// CHECK-LABEL: func.func @no_pow_non_integer
// CHECK-COUNT-3: red.pow
// FAST-LABEL:  func.func @no_pow_non_integer
// FAST-COUNT-3: red.pow
func.func @no_pow_non_integer(%x: tensor<5xf32>) -> (tensor<5xf32>, tensor<5xf32>, tensor<5xf32>) {
  %a = red.constant dense<2.5> : tensor<f32>
  %p = red.pow %x, %a : tensor<5xf32>, tensor<f32> -> tensor<5xf32>
  %b = red.constant dense<1.5> : tensor<f32>
  %q = red.pow %x, %b : tensor<5xf32>, tensor<f32> -> tensor<5xf32>
  %c = red.constant dense<7.0> : tensor<f32>
  %r = red.pow %x, %c : tensor<5xf32>, tensor<f32> -> tensor<5xf32>
  func.return %p, %q, %r : tensor<5xf32>, tensor<5xf32>, tensor<5xf32>
}

// -----

// A constant exponent that is not a splat stays a pow.
// CHECK-LABEL: func.func @no_pow_mixed_exponents
// CHECK:         red.pow
// CHECK-NOT:     red.mul
func.func @no_pow_mixed_exponents(%x: tensor<2xf32>) -> tensor<2xf32> {
  %c = red.constant dense<[2.0, 3.0]> : tensor<2xf32>
  %p = red.pow %x, %c : tensor<2xf32>, tensor<2xf32> -> tensor<2xf32>
  func.return %p : tensor<2xf32>
}

// -----

// When the exponent broadcasts x to a larger shape, the product of x would have x's
// shape: the pow stays.
// CHECK-LABEL: func.func @no_pow_broadcasting_exponent
// CHECK:         red.pow
// CHECK-NOT:     red.mul
func.func @no_pow_broadcasting_exponent(%x: tensor<f32>) -> tensor<3xf32> {
  %c = red.constant dense<2.0> : tensor<3xf32>
  %p = red.pow %x, %c : tensor<f32>, tensor<3xf32> -> tensor<3xf32>
  func.return %p : tensor<3xf32>
}
