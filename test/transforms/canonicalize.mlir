// RUN: red-opt %s -p 'canonicalize{test-convergence=true}' --split-input-file | filecheck %s
// RUN: red-opt %s -p 'canonicalize{max-fold-bytes=16 test-convergence=true}' --split-input-file | filecheck %s --check-prefix=SMALL
// RUN: red-opt %s -p 'canonicalize{fast-math=true test-convergence=true}' --split-input-file | filecheck %s --check-prefix=FAST
// RUN: not red-opt %s -p 'canonicalize{max-iterations=1 test-convergence=true}' --split-input-file 2>&1 | filecheck %s --check-prefix=CAP

// One iteration cannot both rewrite and confirm the fixpoint: with test-convergence that
// is an error naming what still fired.
// CAP: error: canonicalize did not converge after 1 iteration ({{[0-9]+}} rewrites); still firing: fold red.add

// A chain of ops on constants folds to one constant; the operand constants die.
// CHECK-LABEL: func.func @fold_constants
// CHECK-NEXT:    %[[C:.*]] = red.constant dense<[-4.000000e+00, -6.000000e+00]> : tensor<2xf32>
// CHECK-NEXT:    func.return %[[C]] : tensor<2xf32>
func.func @fold_constants() -> tensor<2xf32> {
  %a = red.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %b = red.constant dense<[3.0, 4.0]> : tensor<2xf32>
  %s = red.add %a, %b : tensor<2xf32>, tensor<2xf32> -> tensor<2xf32>
  %n = red.neg %s : tensor<2xf32>
  func.return %n : tensor<2xf32>
}

// -----

// Integer arithmetic wraps like the interpreter; comparisons fold to i1 masks; an iota is
// a constant too.
// CHECK-LABEL: func.func @fold_integer_compare_iota
// CHECK-DAG:     %[[K:.*]] = red.constant dense<[-2147483648, 10]> : tensor<2xi32>
// CHECK-DAG:     %[[M:.*]] = red.constant dense<[false, true]> : tensor<2xi1>
// CHECK-DAG:     %[[I:.*]] = red.constant dense<[2, 3, 4]> : tensor<3xi64>
// CHECK-NOT:     red.add
// CHECK-NOT:     red.lt
// CHECK:         func.return %[[K]], %[[M]], %[[I]]
func.func @fold_integer_compare_iota() -> (tensor<2xi32>, tensor<2xi1>, tensor<3xi64>) {
  %i = red.constant dense<[2147483647, 5]> : tensor<2xi32>
  %j = red.constant dense<[1, 5]> : tensor<2xi32>
  %k = red.add %i, %j : tensor<2xi32>, tensor<2xi32> -> tensor<2xi32>
  %a = red.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %b = red.constant dense<[1.0, 3.0]> : tensor<2xf32>
  %m = red.lt %a, %b : tensor<2xf32>, tensor<2xf32> -> tensor<2xi1>
  %io = red.iota dim = 0 : tensor<3xi64>
  %two = red.constant dense<2> : tensor<i64>
  %r = red.add %io, %two : tensor<3xi64>, tensor<i64> -> tensor<3xi64>
  func.return %k, %m, %r : tensor<2xi32>, tensor<2xi1>, tensor<3xi64>
}

// -----

// A constant with several uses survives the fold of one of them.
// CHECK-LABEL: func.func @fold_constant_with_several_uses
// CHECK-SAME:    (%[[X:.*]]: tensor<2xf32>)
// CHECK:         %[[C:.*]] = red.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK-NEXT:    %[[S:.*]] = red.sub %[[X]], %[[C]]
// CHECK-NOT:     red.add
// CHECK:         %[[F:.*]] = red.constant dense<[2.000000e+00, 4.000000e+00]> : tensor<2xf32>
// CHECK-NOT:     red.add
// CHECK:         func.return %[[S]], %[[F]]
func.func @fold_constant_with_several_uses(%x: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>) {
  %c = red.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %s = red.sub %x, %c : tensor<2xf32>, tensor<2xf32> -> tensor<2xf32>
  %f = red.add %c, %c : tensor<2xf32>, tensor<2xf32> -> tensor<2xf32>
  func.return %s, %f : tensor<2xf32>, tensor<2xf32>
}

// -----

// An op with a non-constant operand does not fold.
// CHECK-LABEL: func.func @no_fold_non_constant
// CHECK-SAME:    (%[[X:.*]]: tensor<2xf32>)
// CHECK-NEXT:    %[[C:.*]] = red.constant dense<[1.000000e+00, 2.000000e+00]>
// CHECK-NEXT:    %[[E:.*]] = red.exp %[[X]]
// CHECK-NEXT:    %[[S:.*]] = red.add %[[E]], %[[C]]
// CHECK-NEXT:    func.return %[[S]]
func.func @no_fold_non_constant(%x: tensor<2xf32>) -> tensor<2xf32> {
  %c = red.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %e = red.exp %x : tensor<2xf32>
  %s = red.add %e, %c : tensor<2xf32>, tensor<2xf32> -> tensor<2xf32>
  func.return %s : tensor<2xf32>
}

// -----

// Broadcasting an 8-byte constant to 64 bytes adds 56 bytes of constants: folded by
// default, not with max-fold-bytes=16.
// CHECK-LABEL: func.func @fold_bytes_growing
// CHECK-NEXT:    %[[C:.*]] = red.constant dense<{{\[}}[1.000000e+00, 2.000000e+00], {{.*}}> : tensor<8x2xf32>
// CHECK-NEXT:    func.return %[[C]]
// SMALL-LABEL: func.func @fold_bytes_growing
// SMALL-NEXT:    %[[S:.*]] = red.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// SMALL-NEXT:    %[[B:.*]] = red.broadcast_to %[[S]] : tensor<2xf32> -> tensor<8x2xf32>
// SMALL-NEXT:    func.return %[[B]]
func.func @fold_bytes_growing() -> tensor<8x2xf32> {
  %s = red.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %b = red.broadcast_to %s : tensor<2xf32> -> tensor<8x2xf32>
  func.return %b : tensor<8x2xf32>
}

// -----

// A splat stays a splat: broadcasting one costs one element, whatever the budget.
// CHECK-LABEL: func.func @fold_splat_broadcast
// CHECK-NEXT:    %[[C:.*]] = red.constant dense<3.000000e+00> : tensor<8xf32>
// CHECK-NEXT:    func.return %[[C]]
// SMALL-LABEL: func.func @fold_splat_broadcast
// SMALL-NEXT:    %[[C:.*]] = red.constant dense<3.000000e+00> : tensor<8xf32>
// SMALL-NEXT:    func.return %[[C]]
func.func @fold_splat_broadcast() -> tensor<8xf32> {
  %s = red.constant dense<3.0> : tensor<f32>
  %b = red.broadcast_to %s : tensor<f32> -> tensor<8xf32>
  func.return %b : tensor<8xf32>
}

// -----

// The byte budget is net of the constants the fold kills: 32 new bytes replace 64.
// CHECK-LABEL: func.func @fold_bytes_net_of_killed
// CHECK-NEXT:    red.constant dense<3.000000e+00> : tensor<8xf32>
// CHECK-NEXT:    func.return
// SMALL-LABEL: func.func @fold_bytes_net_of_killed
// SMALL-NEXT:    %[[C:.*]] = red.constant dense<3.000000e+00> : tensor<8xf32>
// SMALL-NEXT:    func.return %[[C]]
func.func @fold_bytes_net_of_killed() -> tensor<8xf32> {
  %a = red.constant dense<1.0> : tensor<8xf32>
  %b = red.constant dense<2.0> : tensor<8xf32>
  %s = red.add %a, %b : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  func.return %s : tensor<8xf32>
}

// -----

// When the operands stay alive (another use), the fold's 32 bytes are all new.
// CHECK-LABEL: func.func @fold_bytes_operands_kept
// CHECK:         red.constant dense<[2.000000e+00, 4.000000e+00, {{.*}}> : tensor<8xf32>
// CHECK-NOT:     red.add
// SMALL-LABEL: func.func @fold_bytes_operands_kept
// SMALL-NEXT:    %[[A:.*]] = red.constant dense<[1.000000e+00, {{.*}}> : tensor<8xf32>
// SMALL-NEXT:    %[[S:.*]] = red.add %[[A]], %[[A]]
// SMALL-NEXT:    func.return %[[S]], %[[A]]
func.func @fold_bytes_operands_kept() -> (tensor<8xf32>, tensor<8xf32>) {
  %a = red.constant dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<8xf32>
  %s = red.add %a, %a : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  func.return %s, %a : tensor<8xf32>, tensor<8xf32>
}

// -----

// x * 1 and 1 * x are x, for every use of the product.
// CHECK-LABEL: func.func @mul_by_one
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>, %[[I:.*]]: tensor<4xi32>)
// CHECK-NOT:     red.mul
// CHECK:         %[[E:.*]] = red.exp %[[X]]
// CHECK-NOT:     red.mul
// CHECK:         func.return %[[X]], %[[X]], %[[E]], %[[I]]
func.func @mul_by_one(%x: tensor<4xf32>, %i: tensor<4xi32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi32>) {
  %one = red.constant dense<1.0> : tensor<4xf32>
  %a = red.mul %x, %one : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %b = red.mul %one, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %e = red.exp %a : tensor<4xf32>
  %ione = red.constant dense<1> : tensor<i32>
  %j = red.mul %i, %ione : tensor<4xi32>, tensor<i32> -> tensor<4xi32>
  func.return %a, %b, %e, %j : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi32>
}

// -----

// x * ones of a larger shape broadcasts x: the product's type is not x's, nothing is erased
// (likewise x / 1, x - 0 and x + (-0) with a larger constant).
// CHECK-LABEL: func.func @no_identity_when_broadcasting
// CHECK:         red.mul
// CHECK-NEXT:    red.div
// CHECK-NEXT:    red.sub
// CHECK-NEXT:    red.add
// CHECK-NEXT:    red.pow
// CHECK-NEXT:    func.return
func.func @no_identity_when_broadcasting(%x: tensor<4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %one = red.constant dense<1.0> : tensor<2x4xf32>
  %zero = red.constant dense<0.0> : tensor<2x4xf32>
  %nzero = red.constant dense<-0.0> : tensor<2x4xf32>
  %a = red.mul %x, %one : tensor<4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  %b = red.div %x, %one : tensor<4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  %c = red.sub %x, %zero : tensor<4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  %d = red.add %x, %nzero : tensor<4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  %e = red.pow %x, %one : tensor<4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  func.return %a, %b, %c, %d, %e : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// Multiplying by a constant that is not all ones is kept.
// CHECK-LABEL: func.func @no_mul_by_non_splat_one
// CHECK:         red.mul
func.func @no_mul_by_non_splat_one(%x: tensor<2xf32>) -> tensor<2xf32> {
  %c = red.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %a = red.mul %x, %c : tensor<2xf32>, tensor<2xf32> -> tensor<2xf32>
  func.return %a : tensor<2xf32>
}

// -----

// x / 1 is x.
// CHECK-LABEL: func.func @div_by_one
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK-NOT:     red.div
// CHECK:         func.return %[[X]]
func.func @div_by_one(%x: tensor<4xf32>) -> tensor<4xf32> {
  %one = red.constant dense<1.0> : tensor<f32>
  %a = red.div %x, %one : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  func.return %a : tensor<4xf32>
}

// -----

// 1 / x is not x.
// CHECK-LABEL: func.func @no_div_one_by_x
// CHECK:         red.div %{{.*}}, %{{.*}} : tensor<f32>, tensor<4xf32>
func.func @no_div_one_by_x(%x: tensor<4xf32>) -> tensor<4xf32> {
  %one = red.constant dense<1.0> : tensor<f32>
  %a = red.div %one, %x : tensor<f32>, tensor<4xf32> -> tensor<4xf32>
  func.return %a : tensor<4xf32>
}

// -----

// x - (+0) is x (also for -0: -0 - 0 = -0); integers too.
// CHECK-LABEL: func.func @sub_positive_zero
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>, %[[I:.*]]: tensor<4xi32>)
// CHECK-NOT:     red.sub
// CHECK:         func.return %[[X]], %[[I]]
func.func @sub_positive_zero(%x: tensor<4xf32>, %i: tensor<4xi32>) -> (tensor<4xf32>, tensor<4xi32>) {
  %zero = red.constant dense<0.0> : tensor<4xf32>
  %a = red.sub %x, %zero : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %izero = red.constant dense<0> : tensor<i32>
  %j = red.sub %i, %izero : tensor<4xi32>, tensor<i32> -> tensor<4xi32>
  func.return %a, %j : tensor<4xf32>, tensor<4xi32>
}

// -----

// x - (-0) turns -0 into +0: not x. 0 - x is not x either.
// CHECK-LABEL: func.func @no_sub_negative_zero
// CHECK:         %[[NZ:.*]] = red.constant dense<-0.000000e+00> : tensor<4xf32>
// CHECK:         red.sub %{{.*}}, %[[NZ]]
// CHECK-NEXT:    red.sub %{{.*}}, %{{.*}} : tensor<f32>, tensor<4xf32>
func.func @no_sub_negative_zero(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %nzero = red.constant dense<-0.0> : tensor<4xf32>
  %zero = red.constant dense<0.0> : tensor<f32>
  %a = red.sub %x, %nzero : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %b = red.sub %zero, %x : tensor<f32>, tensor<4xf32> -> tensor<4xf32>
  func.return %a, %b : tensor<4xf32>, tensor<4xf32>
}

// -----

// x + (-0) and (-0) + x are x, exactly.
// CHECK-LABEL: func.func @add_negative_zero
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK-NOT:     red.add
// CHECK:         func.return %[[X]], %[[X]]
func.func @add_negative_zero(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %nzero = red.constant dense<-0.0> : tensor<4xf32>
  %a = red.add %x, %nzero : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %b = red.add %nzero, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %a, %b : tensor<4xf32>, tensor<4xf32>
}

// -----

// x + (+0) turns -0 into +0: kept, except with fast-math.
// CHECK-LABEL: func.func @no_add_positive_zero_float
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK:         %[[Z:.*]] = red.constant dense<0.000000e+00> : tensor<4xf32>
// CHECK-NEXT:    %[[A:.*]] = red.add %[[X]], %[[Z]]
// CHECK-NEXT:    func.return %[[A]]
// FAST-LABEL: func.func @no_add_positive_zero_float
// FAST-SAME:    (%[[X:.*]]: tensor<4xf32>)
// FAST-NOT:     red.add
// FAST:         func.return %[[X]]
func.func @no_add_positive_zero_float(%x: tensor<4xf32>) -> tensor<4xf32> {
  %zero = red.constant dense<0.0> : tensor<4xf32>
  %a = red.add %x, %zero : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %a : tensor<4xf32>
}

// -----

// Integers have no signed zero: x + 0 is x without fast-math.
// CHECK-LABEL: func.func @add_zero_integer
// CHECK-SAME:    (%[[I:.*]]: tensor<4xi64>)
// CHECK-NOT:     red.add
// CHECK:         func.return %[[I]]
func.func @add_zero_integer(%i: tensor<4xi64>) -> tensor<4xi64> {
  %zero = red.constant dense<0> : tensor<4xi64>
  %a = red.add %zero, %i : tensor<4xi64>, tensor<4xi64> -> tensor<4xi64>
  func.return %a : tensor<4xi64>
}

// -----

// x * 0 is NaN for x = NaN or Inf: kept for floats, except with fast-math.
// CHECK-LABEL: func.func @no_mul_by_zero_float
// CHECK:         red.mul
// FAST-LABEL: func.func @no_mul_by_zero_float
// FAST-NOT:     red.mul
// FAST:         %[[Z:.*]] = red.constant dense<0.000000e+00> : tensor<2x4xf32>
// FAST-NEXT:    func.return %[[Z]]
func.func @no_mul_by_zero_float(%x: tensor<4xf32>) -> tensor<2x4xf32> {
  %zero = red.constant dense<0.0> : tensor<2x1xf32>
  %a = red.mul %x, %zero : tensor<4xf32>, tensor<2x1xf32> -> tensor<2x4xf32>
  func.return %a : tensor<2x4xf32>
}

// -----

// x * 0 is 0 for integers, with the product's (broadcast) shape.
// CHECK-LABEL: func.func @mul_by_zero_integer
// CHECK-NOT:     red.mul
// CHECK:         %[[Z:.*]] = red.constant dense<0> : tensor<3x4xi32>
// CHECK-NEXT:    func.return %[[Z]]
func.func @mul_by_zero_integer(%i: tensor<4xi32>) -> tensor<3x4xi32> {
  %zero = red.constant dense<0> : tensor<3x1xi32>
  %a = red.mul %zero, %i : tensor<3x1xi32>, tensor<4xi32> -> tensor<3x4xi32>
  func.return %a : tensor<3x4xi32>
}

// -----

// x - x is NaN for x = Inf: kept for floats, except with fast-math.
// CHECK-LABEL: func.func @no_sub_self_float
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK:         red.sub %[[X]], %[[X]]
// FAST-LABEL: func.func @no_sub_self_float
// FAST-NOT:     red.sub
// FAST:         %[[Z:.*]] = red.constant dense<0.000000e+00> : tensor<4xf32>
// FAST-NEXT:    func.return %[[Z]]
func.func @no_sub_self_float(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = red.sub %x, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %a : tensor<4xf32>
}

// -----

// x - x is 0 for integers; x - y is not.
// CHECK-LABEL: func.func @sub_self_integer
// CHECK-SAME:    (%[[I:.*]]: tensor<4xi32>, %[[J:.*]]: tensor<4xi32>)
// CHECK:         %[[Z:.*]] = red.constant dense<0> : tensor<4xi32>
// CHECK-NEXT:    %[[D:.*]] = red.sub %[[I]], %[[J]]
// CHECK-NEXT:    func.return %[[Z]], %[[D]]
func.func @sub_self_integer(%i: tensor<4xi32>, %j: tensor<4xi32>) -> (tensor<4xi32>, tensor<4xi32>) {
  %a = red.sub %i, %i : tensor<4xi32>, tensor<4xi32> -> tensor<4xi32>
  %b = red.sub %i, %j : tensor<4xi32>, tensor<4xi32> -> tensor<4xi32>
  func.return %a, %b : tensor<4xi32>, tensor<4xi32>
}

// -----

// neg(neg(x)) is x; the inner neg keeps its other use.
// CHECK-LABEL: func.func @double_negation
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[N:.*]] = red.neg %[[X]]
// CHECK-NOT:     red.neg
// CHECK:         func.return %[[X]], %[[N]]
func.func @double_negation(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %n = red.neg %x : tensor<4xf32>
  %nn = red.neg %n : tensor<4xf32>
  func.return %nn, %n : tensor<4xf32>, tensor<4xf32>
}

// -----

// neg(abs(x)) is not a double negation.
// CHECK-LABEL: func.func @no_double_negation
// CHECK:         red.abs
// CHECK-NEXT:    red.neg
func.func @no_double_negation(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = red.abs %x : tensor<4xf32>
  %n = red.neg %a : tensor<4xf32>
  func.return %n : tensor<4xf32>
}

// -----

// max(x, x) and min(x, x) are x.
// CHECK-LABEL: func.func @max_min_self
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK-NOT:     red.max
// CHECK-NOT:     red.min
// CHECK:         func.return %[[X]], %[[X]]
func.func @max_min_self(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %a = red.max %x, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %b = red.min %x, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %a, %b : tensor<4xf32>, tensor<4xf32>
}

// -----

// max(x, y) is kept.
// CHECK-LABEL: func.func @no_max_of_different_values
// CHECK:         red.max
// CHECK-NEXT:    red.min
func.func @no_max_of_different_values(%x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %a = red.max %x, %y : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %b = red.min %x, %y : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %a, %b : tensor<4xf32>, tensor<4xf32>
}

// -----

// select(c, x, x) is x; select(true, x, y) is x; select(false, x, y) is y.
// CHECK-LABEL: func.func @select_simplifications
// CHECK-SAME:    (%[[C:.*]]: tensor<4xi1>, %[[X:.*]]: tensor<4xf32>, %[[Y:.*]]: tensor<4xf32>)
// CHECK-NOT:     red.select
// CHECK:         func.return %[[X]], %[[X]], %[[Y]]
func.func @select_simplifications(%c: tensor<4xi1>, %x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %t = red.constant dense<true> : tensor<4xi1>
  %f = red.constant dense<false> : tensor<i1>
  %a = red.select %c, %x, %x : tensor<4xi1>, tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %b = red.select %t, %x, %y : tensor<4xi1>, tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %d = red.select %f, %x, %y : tensor<i1>, tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %a, %b, %d : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// A mixed constant mask, and a true mask that broadcasts the chosen value, are kept.
// CHECK-LABEL: func.func @no_select_simplification
// CHECK:         red.select
// CHECK-NEXT:    red.select
// CHECK-NEXT:    func.return
func.func @no_select_simplification(%x: tensor<4xf32>, %y: tensor<4xf32>, %s: tensor<f32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %m = red.constant dense<[true, false, true, false]> : tensor<4xi1>
  %t = red.constant dense<true> : tensor<4xi1>
  %a = red.select %m, %x, %y : tensor<4xi1>, tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %b = red.select %t, %s, %y : tensor<4xi1>, tensor<f32>, tensor<4xf32> -> tensor<4xf32>
  func.return %a, %b : tensor<4xf32>, tensor<4xf32>
}

// -----

// pow(x, 1) is x.
// CHECK-LABEL: func.func @pow_one
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK-NOT:     red.pow
// CHECK:         func.return %[[X]]
func.func @pow_one(%x: tensor<4xf32>) -> tensor<4xf32> {
  %one = red.constant dense<1.0> : tensor<f32>
  %p = red.pow %x, %one : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  func.return %p : tensor<4xf32>
}

// -----

// pow(x, 2) and pow(1, x) are kept.
// CHECK-LABEL: func.func @no_pow_simplification
// CHECK:         red.pow
// CHECK-NEXT:    red.pow
func.func @no_pow_simplification(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %one = red.constant dense<1.0> : tensor<f32>
  %two = red.constant dense<2.0> : tensor<f32>
  %p = red.pow %x, %two : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %q = red.pow %one, %x : tensor<f32>, tensor<4xf32> -> tensor<4xf32>
  func.return %p, %q : tensor<4xf32>, tensor<4xf32>
}

// -----

// Two transposes compose into one.
// CHECK-LABEL: func.func @transpose_of_transpose
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT:    %[[T:.*]] = red.transpose %[[X]] [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
// CHECK-NEXT:    func.return %[[T]]
func.func @transpose_of_transpose(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %a = red.transpose %x [1, 2, 0] : tensor<2x3x4xf32> -> tensor<3x4x2xf32>
  %b = red.transpose %a [1, 2, 0] : tensor<3x4x2xf32> -> tensor<4x2x3xf32>
  func.return %b : tensor<4x2x3xf32>
}

// -----

// Two transposes that undo each other vanish; the inner one keeps its other use.
// CHECK-LABEL: func.func @transpose_roundtrip
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT:    %[[T:.*]] = red.transpose %[[X]] [1, 0]
// CHECK-NEXT:    func.return %[[X]], %[[T]]
func.func @transpose_roundtrip(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<3x2xf32>) {
  %t = red.transpose %x [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  %u = red.transpose %t [1, 0] : tensor<3x2xf32> -> tensor<2x3xf32>
  func.return %u, %t : tensor<2x3xf32>, tensor<3x2xf32>
}

// -----

// The identity permutation is erased.
// CHECK-LABEL: func.func @identity_transpose
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NOT:     red.transpose
// CHECK:         func.return %[[X]]
func.func @identity_transpose(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %t = red.transpose %x [0, 1] : tensor<2x3xf32> -> tensor<2x3xf32>
  func.return %t : tensor<2x3xf32>
}

// -----

// A single non-identity transpose stays, also on a square matrix.
// CHECK-LABEL: func.func @no_fold_single_transpose
// CHECK:         red.transpose %{{.*}} [1, 0] : tensor<3x3xf32> -> tensor<3x3xf32>
func.func @no_fold_single_transpose(%x: tensor<3x3xf32>) -> tensor<3x3xf32> {
  %t = red.transpose %x [1, 0] : tensor<3x3xf32> -> tensor<3x3xf32>
  func.return %t : tensor<3x3xf32>
}

// -----

// A reshape of a reshape is one reshape; back to the input's shape it vanishes.
// CHECK-LABEL: func.func @reshape_of_reshape
// CHECK-SAME:    (%[[X:.*]]: tensor<2x6xf32>)
// CHECK-NEXT:    %[[R:.*]] = red.reshape %[[X]] : tensor<2x6xf32> -> tensor<12xf32>
// CHECK-NOT:     red.reshape
// CHECK:         func.return %[[R]], %[[X]]
func.func @reshape_of_reshape(%x: tensor<2x6xf32>) -> (tensor<12xf32>, tensor<2x6xf32>) {
  %a = red.reshape %x : tensor<2x6xf32> -> tensor<3x4xf32>
  %b = red.reshape %a : tensor<3x4xf32> -> tensor<12xf32>
  %c = red.reshape %a : tensor<3x4xf32> -> tensor<2x6xf32>
  func.return %b, %c : tensor<12xf32>, tensor<2x6xf32>
}

// -----

// A single reshape stays.
// CHECK-LABEL: func.func @no_fold_single_reshape
// CHECK:         red.reshape %{{.*}} : tensor<2x6xf32> -> tensor<3x4xf32>
func.func @no_fold_single_reshape(%x: tensor<2x6xf32>) -> tensor<3x4xf32> {
  %a = red.reshape %x : tensor<2x6xf32> -> tensor<3x4xf32>
  func.return %a : tensor<3x4xf32>
}

// -----

// reshape, broadcast_to and cast to the input's own type are the input.
// CHECK-LABEL: func.func @identity_shape_ops
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NOT:     red.
// CHECK:         func.return %[[X]], %[[X]], %[[X]]
func.func @identity_shape_ops(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  %a = red.reshape %x : tensor<2x3xf32> -> tensor<2x3xf32>
  %b = red.broadcast_to %x : tensor<2x3xf32> -> tensor<2x3xf32>
  %c = red.cast %x : tensor<2x3xf32> -> tensor<2x3xf32>
  func.return %a, %b, %c : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// A cast that changes the element type, and a broadcast that adds a dimension, stay.
// CHECK-LABEL: func.func @no_identity_shape_ops
// CHECK:         red.cast %{{.*}} : tensor<2x3xf32> -> tensor<2x3xf16>
// CHECK-NEXT:    red.broadcast_to %{{.*}} : tensor<2x3xf32> -> tensor<1x2x3xf32>
func.func @no_identity_shape_ops(%x: tensor<2x3xf32>) -> (tensor<2x3xf16>, tensor<1x2x3xf32>) {
  %c = red.cast %x : tensor<2x3xf32> -> tensor<2x3xf16>
  %b = red.broadcast_to %x : tensor<2x3xf32> -> tensor<1x2x3xf32>
  func.return %c, %b : tensor<2x3xf16>, tensor<1x2x3xf32>
}

// -----

// A broadcast of a broadcast is one broadcast.
// CHECK-LABEL: func.func @broadcast_of_broadcast
// CHECK-SAME:    (%[[X:.*]]: tensor<3xf32>)
// CHECK-NEXT:    %[[B:.*]] = red.broadcast_to %[[X]] : tensor<3xf32> -> tensor<4x3xf32>
// CHECK-NEXT:    func.return %[[B]]
func.func @broadcast_of_broadcast(%x: tensor<3xf32>) -> tensor<4x3xf32> {
  %a = red.broadcast_to %x : tensor<3xf32> -> tensor<1x3xf32>
  %b = red.broadcast_to %a : tensor<1x3xf32> -> tensor<4x3xf32>
  func.return %b : tensor<4x3xf32>
}

// -----

// A slice of everything with stride 1 is the input.
// CHECK-LABEL: func.func @full_slice
// CHECK-SAME:    (%[[X:.*]]: tensor<4x8xf32>)
// CHECK-NOT:     red.slice
// CHECK:         func.return %[[X]]
func.func @full_slice(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %s = red.slice %x [0, 0] [4, 8] [1, 1] : tensor<4x8xf32> -> tensor<4x8xf32>
  func.return %s : tensor<4x8xf32>
}

// -----

// A partial slice and a full-range slice with a stride stay.
// CHECK-LABEL: func.func @no_full_slice
// CHECK:         red.slice %{{.*}} [1, 0] [4, 8] [1, 1]
// CHECK-NEXT:    red.slice %{{.*}} [0, 0] [4, 8] [1, 2]
func.func @no_full_slice(%x: tensor<4x8xf32>) -> (tensor<3x8xf32>, tensor<4x4xf32>) {
  %a = red.slice %x [1, 0] [4, 8] [1, 1] : tensor<4x8xf32> -> tensor<3x8xf32>
  %b = red.slice %x [0, 0] [4, 8] [1, 2] : tensor<4x8xf32> -> tensor<4x4xf32>
  func.return %a, %b : tensor<3x8xf32>, tensor<4x4xf32>
}

// -----

// A slice of a strided slice is one slice: x[1::2][1::2] = x[3::4].
// CHECK-LABEL: func.func @slice_of_slice
// CHECK-SAME:    (%[[X:.*]]: tensor<10x4xf32>)
// CHECK-NEXT:    %[[S:.*]] = red.slice %[[X]] [3, 1] [10, 3] [4, 1] : tensor<10x4xf32> -> tensor<2x2xf32>
// CHECK-NEXT:    func.return %[[S]]
func.func @slice_of_slice(%x: tensor<10x4xf32>) -> tensor<2x2xf32> {
  %a = red.slice %x [1, 0] [10, 4] [2, 1] : tensor<10x4xf32> -> tensor<5x4xf32>
  %b = red.slice %a [1, 1] [5, 3] [2, 1] : tensor<5x4xf32> -> tensor<2x2xf32>
  func.return %b : tensor<2x2xf32>
}

// -----

// An empty slice at the end of a strided slice stays in bounds of the input.
// CHECK-LABEL: func.func @slice_of_slice_empty
// CHECK-SAME:    (%[[X:.*]]: tensor<8xf32>)
// CHECK-NEXT:    %[[S:.*]] = red.slice %[[X]] [1] [1] [2] : tensor<8xf32> -> tensor<0xf32>
// CHECK-NEXT:    func.return %[[S]]
func.func @slice_of_slice_empty(%x: tensor<8xf32>) -> tensor<0xf32> {
  %a = red.slice %x [1] [8] [2] : tensor<8xf32> -> tensor<4xf32>
  %b = red.slice %a [4] [4] [1] : tensor<4xf32> -> tensor<0xf32>
  func.return %b : tensor<0xf32>
}

// -----

// A slice inside one input of a concat slices that input; the concat keeps its other use.
// CHECK-LABEL: func.func @slice_of_concat_one_input
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf32>, %[[Y:.*]]: tensor<4x3xf32>, %[[Z:.*]]: tensor<1x3xf32>)
// CHECK-NEXT:    %[[C:.*]] = red.concat %[[X]], %[[Y]], %[[Z]] axis = 0
// CHECK-NEXT:    %[[S:.*]] = red.slice %[[Y]] [1, 0] [2, 3] [1, 1] : tensor<4x3xf32> -> tensor<1x3xf32>
// CHECK-NEXT:    func.return %[[S]], %[[C]]
func.func @slice_of_concat_one_input(%x: tensor<2x3xf32>, %y: tensor<4x3xf32>, %z: tensor<1x3xf32>) -> (tensor<1x3xf32>, tensor<7x3xf32>) {
  %c = red.concat %x, %y, %z axis = 0 : tensor<2x3xf32>, tensor<4x3xf32>, tensor<1x3xf32> -> tensor<7x3xf32>
  %s = red.slice %c [3, 0] [4, 3] [1, 1] : tensor<7x3xf32> -> tensor<1x3xf32>
  func.return %s, %c : tensor<1x3xf32>, tensor<7x3xf32>
}

// -----

// A slice exactly covering one input is that input.
// CHECK-LABEL: func.func @slice_of_concat_whole_input
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf32>, %[[Y:.*]]: tensor<4x3xf32>)
// CHECK-NOT:     red.concat
// CHECK-NOT:     red.slice
// CHECK:         func.return %[[Y]]
func.func @slice_of_concat_whole_input(%x: tensor<2x3xf32>, %y: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %c = red.concat %x, %y axis = 0 : tensor<2x3xf32>, tensor<4x3xf32> -> tensor<6x3xf32>
  %s = red.slice %c [2, 0] [6, 3] [1, 1] : tensor<6x3xf32> -> tensor<4x3xf32>
  func.return %s : tensor<4x3xf32>
}

// -----

// A slice covering exactly two of three inputs is the concat of those inputs.
// CHECK-LABEL: func.func @slice_of_concat_covering_two_inputs
// CHECK-SAME:    (%[[X:.*]]: tensor<3x2xf32>, %[[Y:.*]]: tensor<3x4xf32>, %[[Z:.*]]: tensor<3x1xf32>)
// CHECK-NEXT:    %[[C:.*]] = red.concat %[[Y]], %[[Z]] axis = 1 : tensor<3x4xf32>, tensor<3x1xf32> -> tensor<3x5xf32>
// CHECK-NEXT:    func.return %[[C]]
func.func @slice_of_concat_covering_two_inputs(%x: tensor<3x2xf32>, %y: tensor<3x4xf32>, %z: tensor<3x1xf32>) -> tensor<3x5xf32> {
  %c = red.concat %x, %y, %z axis = 1 : tensor<3x2xf32>, tensor<3x4xf32>, tensor<3x1xf32> -> tensor<3x7xf32>
  %s = red.slice %c [0, 2] [3, 7] [1, 1] : tensor<3x7xf32> -> tensor<3x5xf32>
  func.return %s : tensor<3x5xf32>
}

// -----

// A slice needing partial slices of two inputs stays: the rewrite would need a slice of
// each and a concat, more ops than the one slice (narrow-to-uses does it when it saves work).
// CHECK-LABEL: func.func @no_slice_of_concat_spanning_partial_inputs
// CHECK:         %[[C:.*]] = red.concat
// CHECK-NEXT:    %[[S:.*]] = red.slice %[[C]] [0, 1] [3, 5] [2, 1]
// CHECK-NEXT:    func.return %[[S]]
func.func @no_slice_of_concat_spanning_partial_inputs(%x: tensor<3x2xf32>, %y: tensor<3x4xf32>, %z: tensor<3x1xf32>) -> tensor<2x4xf32> {
  %c = red.concat %x, %y, %z axis = 1 : tensor<3x2xf32>, tensor<3x4xf32>, tensor<3x1xf32> -> tensor<3x7xf32>
  %s = red.slice %c [0, 1] [3, 5] [2, 1] : tensor<3x7xf32> -> tensor<2x4xf32>
  func.return %s : tensor<2x4xf32>
}

// -----

// A slice touching every input, or strided along the concat axis, stays.
// CHECK-LABEL: func.func @no_slice_of_concat
// CHECK:         %[[C:.*]] = red.concat
// CHECK-NEXT:    red.slice %[[C]] [1, 0] [5, 3] [1, 1]
// CHECK-NEXT:    red.slice %[[C]] [0, 0] [3, 3] [2, 1]
func.func @no_slice_of_concat(%x: tensor<2x3xf32>, %y: tensor<4x3xf32>) -> (tensor<4x3xf32>, tensor<2x3xf32>) {
  %c = red.concat %x, %y axis = 0 : tensor<2x3xf32>, tensor<4x3xf32> -> tensor<6x3xf32>
  %a = red.slice %c [1, 0] [5, 3] [1, 1] : tensor<6x3xf32> -> tensor<4x3xf32>
  %b = red.slice %c [0, 0] [3, 3] [2, 1] : tensor<6x3xf32> -> tensor<2x3xf32>
  func.return %a, %b : tensor<4x3xf32>, tensor<2x3xf32>
}

// -----

// A concat of one input is that input.
// CHECK-LABEL: func.func @single_input_concat
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NOT:     red.concat
// CHECK:         func.return %[[X]]
func.func @single_input_concat(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %c = red.concat %x axis = 1 : tensor<2x3xf32> -> tensor<2x3xf32>
  func.return %c : tensor<2x3xf32>
}

// -----

// Commutative ops put constants on the right, then values in program order (arguments
// first); the swapped forms are what CSE then sees as equal.
// CHECK-LABEL: func.func @commutative_operand_order
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>, %[[Y:.*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[C:.*]] = red.constant dense<2.000000e+00> : tensor<4xf32>
// CHECK-NEXT:    %[[A:.*]] = red.add %[[X]], %[[C]]
// CHECK-NEXT:    %[[M:.*]] = red.mul %[[X]], %[[C]]
// CHECK-NEXT:    %[[MX:.*]] = red.max %[[X]], %[[C]]
// CHECK-NEXT:    %[[MN:.*]] = red.min %[[X]], %[[C]]
// CHECK-NEXT:    %[[EQ:.*]] = red.eq %[[X]], %[[C]]
// CHECK-NEXT:    %[[NE:.*]] = red.ne %[[X]], %[[C]]
// CHECK-NEXT:    %[[YX:.*]] = red.add %[[X]], %[[Y]]
// CHECK-NEXT:    %[[E:.*]] = red.exp %[[X]]
// CHECK-NEXT:    %[[EY:.*]] = red.mul %[[Y]], %[[E]]
// CHECK-NEXT:    func.return
func.func @commutative_operand_order(%x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi1>, tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) {
  %c = red.constant dense<2.0> : tensor<4xf32>
  %a = red.add %c, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %m = red.mul %c, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %mx = red.max %c, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %mn = red.min %c, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %eq = red.eq %c, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xi1>
  %ne = red.ne %c, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xi1>
  %yx = red.add %y, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %e = red.exp %x : tensor<4xf32>
  %ey = red.mul %e, %y : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %a, %m, %mx, %mn, %eq, %ne, %yx, %ey : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi1>, tensor<4xi1>, tensor<4xf32>, tensor<4xf32>
}

// -----

// Non-commutative ops keep their operand order, constant first or not.
// CHECK-LABEL: func.func @no_reorder_non_commutative
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>, %[[Y:.*]]: tensor<4xf32>)
// CHECK:         red.sub %[[C:.*]], %[[X]]
// CHECK-NEXT:    red.lt %[[Y]], %[[X]]
// CHECK-NEXT:    red.div %[[Y]], %[[X]]
func.func @no_reorder_non_commutative(%x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xi1>, tensor<4xf32>) {
  %c = red.constant dense<2.0> : tensor<4xf32>
  %a = red.sub %c, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %b = red.lt %y, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xi1>
  %d = red.div %y, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %a, %b, %d : tensor<4xf32>, tensor<4xi1>, tensor<4xf32>
}

// -----

// A tensor arith.constant becomes a red.constant; a scalar one stays.
// CHECK-LABEL: func.func @arith_tensor_constant
// CHECK-DAG:     %[[T:.*]] = red.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK-DAG:     %[[S:.*]] = arith.constant 1.000000e+00 : f32
// CHECK:         func.return %[[T]], %[[S]]
func.func @arith_tensor_constant() -> (tensor<2xf32>, f32) {
  %t = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %s = arith.constant 1.0 : f32
  func.return %t, %s : tensor<2xf32>, f32
}

// -----

// The exact arith float identities, -(-x), x - x for integers, and constant folding.
// CHECK-LABEL: func.func @arith_identities
// CHECK-SAME:    (%[[X:.*]]: f32, %[[I:.*]]: i32)
// CHECK-DAG:     %[[Z:.*]] = arith.constant 0 : i32
// CHECK-DAG:     %[[F:.*]] = arith.constant 6.000000e+00 : f32
// CHECK-NOT:     arith.mulf
// CHECK-NOT:     arith.divf
// CHECK-NOT:     arith.subf
// CHECK-NOT:     arith.addf
// CHECK-NOT:     arith.negf
// CHECK-NOT:     arith.subi
// CHECK:         func.return %[[X]], %[[X]], %[[X]], %[[X]], %[[X]], %[[X]], %[[Z]], %[[F]]
func.func @arith_identities(%x: f32, %i: i32) -> (f32, f32, f32, f32, f32, f32, i32, f32) {
  %one = arith.constant 1.0 : f32
  %two = arith.constant 2.0 : f32
  %three = arith.constant 3.0 : f32
  %pz = arith.constant 0.0 : f32
  %nz = arith.constant -0.0 : f32
  %a = arith.mulf %x, %one : f32
  %b = arith.mulf %one, %x : f32
  %c = arith.divf %x, %one : f32
  %d = arith.subf %x, %pz : f32
  %e = arith.addf %nz, %x : f32
  %n = arith.negf %x : f32
  %nn = arith.negf %n : f32
  %s = arith.subi %i, %i : i32
  %f = arith.mulf %two, %three : f32
  func.return %a, %b, %c, %d, %e, %nn, %s, %f : f32, f32, f32, f32, f32, f32, i32, f32
}

// -----

// x - (-0) and x + (+0) are not x for floats (+0 would be kept where -0 is needed);
// 1 / x is not x. With fast-math x + (+0) goes.
// CHECK-LABEL: func.func @no_arith_identities
// CHECK-SAME:    (%[[X:.*]]: f32)
// CHECK:         %[[D:.*]] = arith.subf %[[X]], %{{.*}} : f32
// CHECK-NEXT:    %[[E:.*]] = arith.addf %[[X]], %{{.*}} : f32
// CHECK-NEXT:    %[[Q:.*]] = arith.divf %{{.*}}, %[[X]] : f32
// CHECK-NEXT:    func.return %[[D]], %[[E]], %[[Q]]
// FAST-LABEL: func.func @no_arith_identities
// FAST-SAME:    (%[[X:.*]]: f32)
// FAST-NOT:     arith.addf
// FAST:         func.return %{{.*}}, %[[X]], %{{.*}}
func.func @no_arith_identities(%x: f32) -> (f32, f32, f32) {
  %one = arith.constant 1.0 : f32
  %pz = arith.constant 0.0 : f32
  %nz = arith.constant -0.0 : f32
  %d = arith.subf %x, %nz : f32
  %e = arith.addf %x, %pz : f32
  %q = arith.divf %one, %x : f32
  func.return %d, %e, %q : f32, f32, f32
}

// -----

// Dead pure ops die, whole chains at once; ops with side effects stay.
// CHECK-LABEL: func.func @dead_pure_ops
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK-NOT:     red.
// CHECK:         memref.alloc
// CHECK-NOT:     red.
// CHECK:         func.return %[[X]]
func.func @dead_pure_ops(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = red.exp %x : tensor<4xf32>
  %n = red.neg %e : tensor<4xf32>
  %m = memref.alloc() : memref<4xf32>
  %s = red.add %n, %e : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %x : tensor<4xf32>
}

// -----

// A value with several uses is not dead while one use remains.
// CHECK-LABEL: func.func @no_dead_ops
// CHECK:         %[[E:.*]] = red.exp
// CHECK-NEXT:    func.return %[[E]]
func.func @no_dead_ops(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = red.exp %x : tensor<4xf32>
  %n = red.neg %e : tensor<4xf32>
  func.return %e : tensor<4xf32>
}

// -----

// Blocks no path reaches are erased, with the values they use elsewhere left intact.
// CHECK-LABEL: func.func @unreachable_blocks
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[E:.*]] = red.exp %[[X]]
// CHECK-NEXT:    func.return %[[E]]
// CHECK-NOT:     ^bb
// CHECK-NOT:     red.neg
// CHECK:         }
func.func @unreachable_blocks(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = red.exp %x : tensor<4xf32>
  func.return %e : tensor<4xf32>
^bb1:
  %n = red.neg %e : tensor<4xf32>
  cf.br ^bb2(%n : tensor<4xf32>)
^bb2(%p: tensor<4xf32>):
  func.return %p : tensor<4xf32>
}

// -----

// A branch on a constant makes the other block unreachable.
// CHECK-LABEL: func.func @constant_branch
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[E:.*]] = red.exp %[[X]]
// CHECK-NEXT:    func.return %[[E]]
// CHECK-NEXT:  }
func.func @constant_branch(%x: tensor<4xf32>) -> tensor<4xf32> {
  %t = arith.constant true
  cf.cond_br %t, ^bb1, ^bb2
^bb1:
  %e = red.exp %x : tensor<4xf32>
  func.return %e : tensor<4xf32>
^bb2:
  %n = red.neg %x : tensor<4xf32>
  func.return %n : tensor<4xf32>
}

// -----

// Both branches reachable: nothing is erased.
// CHECK-LABEL: func.func @no_unreachable_blocks
// CHECK:         cf.cond_br
// CHECK:         red.exp
// CHECK:         red.neg
func.func @no_unreachable_blocks(%c: i1, %x: tensor<4xf32>) -> tensor<4xf32> {
  cf.cond_br %c, ^bb1, ^bb2
^bb1:
  %e = red.exp %x : tensor<4xf32>
  func.return %e : tensor<4xf32>
^bb2:
  %n = red.neg %x : tensor<4xf32>
  func.return %n : tensor<4xf32>
}

// -----

// A gather of consecutive rows [0, k) is those rows: the whole table, or a slice of it.
// CHECK-LABEL: func.func @gather_of_iota
// CHECK-SAME:    (%[[T:.*]]: tensor<8x4xf32>)
// CHECK-NOT:     red.gather
// CHECK:         %[[H:.*]] = red.slice %[[T]] [0, 0] [3, 4] [1, 1] : tensor<8x4xf32> -> tensor<3x4xf32>
// CHECK-NOT:     red.gather
// CHECK:         func.return %[[T]], %[[H]]
func.func @gather_of_iota(%t: tensor<8x4xf32>) -> (tensor<8x4xf32>, tensor<3x4xf32>) {
  %i = red.iota dim = 0 : tensor<8xi64>
  %g = red.gather %t, %i axis = 0 : tensor<8x4xf32>, tensor<8xi64> -> tensor<8x4xf32>
  %j = red.iota dim = 0 : tensor<3xi64>
  %h = red.gather %t, %j axis = 0 : tensor<8x4xf32>, tensor<3xi64> -> tensor<3x4xf32>
  func.return %g, %h : tensor<8x4xf32>, tensor<3x4xf32>
}

// -----

// Iota indices of rank 2 are not consecutive rows: the gather stays.
// CHECK-LABEL: func.func @no_gather_of_iota_2d
// CHECK:         red.gather
func.func @no_gather_of_iota_2d(%t: tensor<8x4xf32>) -> tensor<2x3x4xf32> {
  %i = red.iota dim = 1 : tensor<2x3xi64>
  %g = red.gather %t, %i axis = 0 : tensor<8x4xf32>, tensor<2x3xi64> -> tensor<2x3x4xf32>
  func.return %g : tensor<2x3x4xf32>
}

// -----

// Any stride over a dimension of size 1 takes all of it: the slice is the identity.
// CHECK-LABEL: func.func @full_slice_strided_size_one
// CHECK-SAME:    (%[[X:.*]]: tensor<1x4xf32>)
// CHECK-NEXT:    func.return %[[X]]
func.func @full_slice_strided_size_one(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %s = red.slice %x [0, 0] [1, 4] [3, 1] : tensor<1x4xf32> -> tensor<1x4xf32>
  func.return %s : tensor<1x4xf32>
}
