// RUN: red-opt %s -p cse --split-input-file | filecheck %s

// Two identical pure ops merge; the survivor takes every use of the duplicate.
// CHECK-LABEL: func.func @duplicate_ops
// CHECK-SAME:    (%[[A:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK:         %[[E:.*]] = red.exp %[[A]] : tensor<4xf32>
// CHECK-NEXT:    %[[S:.*]] = red.sub %[[E]], %[[B]] : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
// CHECK-NOT:     red.exp
// CHECK-NOT:     red.sub
// CHECK:         func.return %[[S]], %[[S]] : tensor<4xf32>, tensor<4xf32>
func.func @duplicate_ops(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %e0 = red.exp %a : tensor<4xf32>
  %s0 = red.sub %e0, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %e1 = red.exp %a : tensor<4xf32>
  %s1 = red.sub %e1, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %s0, %s1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// A merged value with several uses: every use of each duplicate is redirected.
// CHECK-LABEL: func.func @several_uses
// CHECK-SAME:    (%[[A:.*]]: tensor<4xf32>)
// CHECK:         %[[T:.*]] = red.tanh %[[A]] : tensor<4xf32>
// CHECK-NOT:     red.tanh
// CHECK:         %[[M:.*]] = red.mul %[[T]], %[[T]] : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
// CHECK-NEXT:    %[[D:.*]] = red.div %[[M]], %[[T]] : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
// CHECK-NEXT:    func.return %[[D]], %[[T]], %[[T]] : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
func.func @several_uses(%a: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %t0 = red.tanh %a : tensor<4xf32>
  %t1 = red.tanh %a : tensor<4xf32>
  %t2 = red.tanh %a : tensor<4xf32>
  %m = red.mul %t0, %t1 : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %d = red.div %m, %t2 : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %d, %t1, %t2 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// Commutative red ops merge with their operands in either order.
// CHECK-LABEL: func.func @commutative_red_ops
// CHECK-SAME:    (%[[A:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK:         %[[ADD:.*]] = red.add %[[A]], %[[B]]
// CHECK-NEXT:    %[[MUL:.*]] = red.mul %[[A]], %[[B]]
// CHECK-NEXT:    %[[MAX:.*]] = red.max %[[A]], %[[B]]
// CHECK-NEXT:    %[[MIN:.*]] = red.min %[[A]], %[[B]]
// CHECK-NEXT:    %[[EQ:.*]] = red.eq %[[A]], %[[B]]
// CHECK-NEXT:    %[[NE:.*]] = red.ne %[[A]], %[[B]]
// CHECK-NOT:     red.
// CHECK:         func.return %[[ADD]], %[[ADD]], %[[MUL]], %[[MUL]], %[[MAX]], %[[MAX]], %[[MIN]], %[[MIN]], %[[EQ]], %[[EQ]], %[[NE]], %[[NE]]
func.func @commutative_red_ops(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>) {
  %add0 = red.add %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %mul0 = red.mul %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %max0 = red.max %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %min0 = red.min %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %eq0 = red.eq %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xi1>
  %ne0 = red.ne %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xi1>
  %add1 = red.add %b, %a : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %mul1 = red.mul %b, %a : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %max1 = red.max %b, %a : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %min1 = red.min %b, %a : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %eq1 = red.eq %b, %a : tensor<4xf32>, tensor<4xf32> -> tensor<4xi1>
  %ne1 = red.ne %b, %a : tensor<4xf32>, tensor<4xf32> -> tensor<4xi1>
  func.return %add0, %add1, %mul0, %mul1, %max0, %max1, %min0, %min1, %eq0, %eq1, %ne0, %ne1 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>
}

// -----

// Commutative operands that broadcast differently still compare as a multiset: the
// result type is part of the key, the operand order is not.
// CHECK-LABEL: func.func @commutative_broadcasting
// CHECK-SAME:    (%[[A:.*]]: tensor<2x3xf32>, %[[B:.*]]: tensor<3xf32>)
// CHECK:         %[[ADD:.*]] = red.add %[[A]], %[[B]] : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
// CHECK-NOT:     red.add
// CHECK:         func.return %[[ADD]], %[[ADD]]
func.func @commutative_broadcasting(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %0 = red.add %a, %b : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
  %1 = red.add %b, %a : tensor<3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
  func.return %0, %1 : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// arith.addf and arith.mulf commute although xDSL does not tag them Commutative;
// arith.addi is tagged.
// CHECK-LABEL: func.func @commutative_arith
// CHECK-SAME:    (%[[X:.*]]: f32, %[[Y:.*]]: f32, %[[I:.*]]: i32, %[[J:.*]]: i32)
// CHECK:         %[[ADD:.*]] = arith.addf %[[X]], %[[Y]] : f32
// CHECK-NEXT:    %[[MUL:.*]] = arith.mulf %[[X]], %[[Y]] : f32
// CHECK-NEXT:    %[[ADDI:.*]] = arith.addi %[[I]], %[[J]] : i32
// CHECK-NOT:     arith.
// CHECK:         func.return %[[ADD]], %[[ADD]], %[[MUL]], %[[MUL]], %[[ADDI]], %[[ADDI]]
func.func @commutative_arith(%x: f32, %y: f32, %i: i32, %j: i32) -> (f32, f32, f32, f32, i32, i32) {
  %a0 = arith.addf %x, %y : f32
  %m0 = arith.mulf %x, %y : f32
  %i0 = arith.addi %i, %j : i32
  %a1 = arith.addf %y, %x : f32
  %m1 = arith.mulf %y, %x : f32
  %i1 = arith.addi %j, %i : i32
  func.return %a0, %a1, %m0, %m1, %i0, %i1 : f32, f32, f32, f32, i32, i32
}

// -----

// Subtraction does not commute: a - b and b - a stay apart.
// CHECK-LABEL: func.func @no_merge_non_commutative
// CHECK-SAME:    (%[[A:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<4xf32>, %[[X:.*]]: f32, %[[Y:.*]]: f32)
// CHECK:         %[[AB:.*]] = red.sub %[[A]], %[[B]]
// CHECK-NEXT:    %[[BA:.*]] = red.sub %[[B]], %[[A]]
// CHECK-NEXT:    %[[SAB:.*]] = arith.subf %[[X]], %[[Y]] : f32
// CHECK-NEXT:    %[[SBA:.*]] = arith.subf %[[Y]], %[[X]] : f32
// CHECK-NEXT:    func.return %[[AB]], %[[BA]], %[[SAB]], %[[SBA]]
func.func @no_merge_non_commutative(%a: tensor<4xf32>, %b: tensor<4xf32>, %x: f32, %y: f32) -> (tensor<4xf32>, tensor<4xf32>, f32, f32) {
  %0 = red.sub %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %1 = red.sub %b, %a : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %2 = arith.subf %x, %y : f32
  %3 = arith.subf %y, %x : f32
  func.return %0, %1, %2, %3 : tensor<4xf32>, tensor<4xf32>, f32, f32
}

// -----

// Ops that differ only in a property (the transpose permutation, the reduced axes) or in
// the result type stay apart.
// CHECK-LABEL: func.func @no_merge_different_properties
// CHECK:         red.transpose %{{.*}} [1, 0, 2]
// CHECK-NEXT:    red.transpose %{{.*}} [0, 2, 1]
// CHECK-NEXT:    red.reduce_sum %{{.*}} axes = [0]
// CHECK-NEXT:    red.reduce_sum %{{.*}} axes = [0] keepdims
// CHECK-NEXT:    red.cast %{{.*}} : tensor<2x2x2xf32> -> tensor<2x2x2xf16>
// CHECK-NEXT:    red.cast %{{.*}} : tensor<2x2x2xf32> -> tensor<2x2x2xf64>
// CHECK-NEXT:    func.return
func.func @no_merge_different_properties(%x: tensor<2x2x2xf32>) -> (tensor<2x2x2xf32>, tensor<2x2x2xf32>, tensor<2x2xf32>, tensor<1x2x2xf32>, tensor<2x2x2xf16>, tensor<2x2x2xf64>) {
  %0 = red.transpose %x [1, 0, 2] : tensor<2x2x2xf32> -> tensor<2x2x2xf32>
  %1 = red.transpose %x [0, 2, 1] : tensor<2x2x2xf32> -> tensor<2x2x2xf32>
  %2 = red.reduce_sum %x axes = [0] : tensor<2x2x2xf32> -> tensor<2x2xf32>
  %3 = red.reduce_sum %x axes = [0] keepdims : tensor<2x2x2xf32> -> tensor<1x2x2xf32>
  %4 = red.cast %x : tensor<2x2x2xf32> -> tensor<2x2x2xf16>
  %5 = red.cast %x : tensor<2x2x2xf32> -> tensor<2x2x2xf64>
  func.return %0, %1, %2, %3, %4, %5 : tensor<2x2x2xf32>, tensor<2x2x2xf32>, tensor<2x2xf32>, tensor<1x2x2xf32>, tensor<2x2x2xf16>, tensor<2x2x2xf64>
}

// -----

// red.constant and a tensor arith.constant of the same value merge (the first one stays).
// CHECK-LABEL: func.func @constants_across_dialects
// CHECK:         %[[C:.*]] = red.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK-NOT:     arith.constant
// CHECK:         func.return %[[C]], %[[C]] : tensor<2xf32>, tensor<2xf32>
func.func @constants_across_dialects() -> (tensor<2xf32>, tensor<2xf32>) {
  %0 = red.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %1 = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  func.return %0, %1 : tensor<2xf32>, tensor<2xf32>
}

// -----

// A splat and the explicit list of the same elements are the same constant.
// CHECK-LABEL: func.func @constants_splat_and_explicit
// CHECK:         %[[C:.*]] = red.constant dense<1.000000e+00> : tensor<2xf32>
// CHECK-NOT:     constant
// CHECK:         func.return %[[C]], %[[C]], %[[C]] : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
func.func @constants_splat_and_explicit() -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) {
  %0 = red.constant dense<1.0> : tensor<2xf32>
  %1 = red.constant dense<[1.0, 1.0]> : tensor<2xf32>
  %2 = arith.constant dense<[1.0, 1.0]> : tensor<2xf32>
  func.return %0, %1, %2 : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
}

// -----

// Scalar constants merge by value as well: NaNs with the same bits merge, and a bf16
// beyond the f16 range is compared without overflowing.
// CHECK-LABEL: func.func @scalar_constants
// CHECK:         %[[F:.*]] = arith.constant 2.500000e+00 : f32
// CHECK-NEXT:    %[[N:.*]] = arith.constant 0x7fc00000 : f32
// CHECK-NEXT:    %[[I:.*]] = arith.constant 7 : i32
// CHECK-NEXT:    %[[B:.*]] = arith.constant {{.*}} : bf16
// CHECK-NOT:     arith.constant
// CHECK:         func.return %[[F]], %[[F]], %[[N]], %[[N]], %[[I]], %[[I]], %[[B]], %[[B]]
func.func @scalar_constants() -> (f32, f32, f32, f32, i32, i32, bf16, bf16) {
  %0 = arith.constant 2.5 : f32
  %1 = arith.constant 0x7FC00000 : f32
  %2 = arith.constant 7 : i32
  %b0 = arith.constant 1.0e10 : bf16
  %3 = arith.constant 2.5 : f32
  %4 = arith.constant 0x7FC00000 : f32
  %5 = arith.constant 7 : i32
  %b1 = arith.constant 1.0e10 : bf16
  func.return %0, %3, %1, %4, %2, %5, %b0, %b1 : f32, f32, f32, f32, i32, i32, bf16, bf16
}

// -----

// 0.0 and -0.0 compare equal as floats but are different constants (1/x tells them apart).
// CHECK-LABEL: func.func @no_merge_signed_zeros
// CHECK:         %[[P:.*]] = red.constant dense<0.000000e+00> : tensor<2xf32>
// CHECK-NEXT:    %[[M:.*]] = red.constant dense<-0.000000e+00> : tensor<2xf32>
// CHECK-NEXT:    %[[SP:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:    %[[SM:.*]] = arith.constant -0.000000e+00 : f32
// CHECK-NEXT:    func.return %[[P]], %[[M]], %[[SP]], %[[SM]]
func.func @no_merge_signed_zeros() -> (tensor<2xf32>, tensor<2xf32>, f32, f32) {
  %0 = red.constant dense<0.0> : tensor<2xf32>
  %1 = red.constant dense<-0.0> : tensor<2xf32>
  %2 = arith.constant 0.0 : f32
  %3 = arith.constant -0.0 : f32
  func.return %0, %1, %2, %3 : tensor<2xf32>, tensor<2xf32>, f32, f32
}

// -----

// Equal bits of different types are different constants.
// CHECK-LABEL: func.func @no_merge_constant_types
// CHECK:         red.constant dense<1> : tensor<2xi32>
// CHECK-NEXT:    red.constant dense<1> : tensor<2xi64>
// CHECK-NEXT:    red.constant dense<1> : tensor<1x2xi32>
// CHECK-NEXT:    func.return
func.func @no_merge_constant_types() -> (tensor<2xi32>, tensor<2xi64>, tensor<1x2xi32>) {
  %0 = red.constant dense<1> : tensor<2xi32>
  %1 = red.constant dense<1> : tensor<2xi64>
  %2 = red.constant dense<1> : tensor<1x2xi32>
  func.return %0, %1, %2 : tensor<2xi32>, tensor<2xi64>, tensor<1x2xi32>
}

// -----

// A value of the entry block is reused in the blocks it dominates.
// CHECK-LABEL: func.func @dominated_blocks
// CHECK-SAME:    (%[[C:.*]]: i1, %[[A:.*]]: tensor<4xf32>)
// CHECK:         %[[E:.*]] = red.exp %[[A]] : tensor<4xf32>
// CHECK-NEXT:    cf.cond_br %[[C]], ^[[BB1:.*]], ^[[BB2:.*]]
// CHECK-NEXT:  ^[[BB1]]:
// CHECK-NOT:     red.exp
// CHECK:         func.return %[[E]] : tensor<4xf32>
// CHECK-NEXT:  ^[[BB2]]:
// CHECK-NOT:     red.exp
// CHECK:         %[[N:.*]] = red.neg %[[E]] : tensor<4xf32>
// CHECK-NEXT:    func.return %[[N]] : tensor<4xf32>
func.func @dominated_blocks(%c: i1, %a: tensor<4xf32>) -> tensor<4xf32> {
  %e = red.exp %a : tensor<4xf32>
  cf.cond_br %c, ^bb1, ^bb2
^bb1:
  %e1 = red.exp %a : tensor<4xf32>
  func.return %e1 : tensor<4xf32>
^bb2:
  %e2 = red.exp %a : tensor<4xf32>
  %n = red.neg %e2 : tensor<4xf32>
  func.return %n : tensor<4xf32>
}

// -----

// A value of a block is reused in a block it dominates that is not its direct successor,
// after a join.
// CHECK-LABEL: func.func @dominated_join
// CHECK-SAME:    (%[[C:.*]]: i1, %[[A:.*]]: tensor<4xf32>)
// CHECK:         %[[E:.*]] = red.exp %[[A]]
// CHECK:         cf.br ^[[JOIN:.*]]
// CHECK:       ^[[JOIN]]:
// CHECK-NOT:     red.exp
// CHECK:         func.return %[[E]]
func.func @dominated_join(%c: i1, %a: tensor<4xf32>) -> tensor<4xf32> {
  %e = red.exp %a : tensor<4xf32>
  cf.cond_br %c, ^bb1, ^bb2
^bb1:
  cf.br ^bb3
^bb2:
  cf.br ^bb3
^bb3:
  %e3 = red.exp %a : tensor<4xf32>
  func.return %e3 : tensor<4xf32>
}

// -----

// Neither sibling block dominates the other, nor the join: nothing merges between them.
// CHECK-LABEL: func.func @no_merge_sibling_blocks
// CHECK:         cf.cond_br
// CHECK:         %[[E1:.*]] = red.exp
// CHECK-NEXT:    cf.br ^[[JOIN:.*]](%[[E1]] : tensor<4xf32>)
// CHECK:         %[[E2:.*]] = red.exp
// CHECK-NEXT:    cf.br ^[[JOIN]](%[[E2]] : tensor<4xf32>)
// CHECK:       ^[[JOIN]](%[[ARG:.*]]: tensor<4xf32>):
// CHECK-NEXT:    %[[E3:.*]] = red.exp
// CHECK-NEXT:    func.return %[[E3]], %[[ARG]]
func.func @no_merge_sibling_blocks(%c: i1, %a: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  cf.cond_br %c, ^bb1, ^bb2
^bb1:
  %e1 = red.exp %a : tensor<4xf32>
  cf.br ^bb3(%e1 : tensor<4xf32>)
^bb2:
  %e2 = red.exp %a : tensor<4xf32>
  cf.br ^bb3(%e2 : tensor<4xf32>)
^bb3(%p: tensor<4xf32>):
  %e3 = red.exp %a : tensor<4xf32>
  func.return %e3, %p : tensor<4xf32>, tensor<4xf32>
}

// -----

// The bodies of scf.if see the values of the enclosing block.
// CHECK-LABEL: func.func @nested_region_sees_outer
// CHECK-SAME:    (%[[C:.*]]: i1, %[[A:.*]]: tensor<4xf32>)
// CHECK:         %[[E:.*]] = red.exp %[[A]]
// CHECK-NEXT:    %[[R:.*]] = scf.if %[[C]]
// CHECK-NOT:       red.exp
// CHECK:           %[[N:.*]] = red.neg %[[E]]
// CHECK-NEXT:      scf.yield %[[N]]
// CHECK-NEXT:    } else {
// CHECK-NEXT:      scf.yield %[[E]]
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %[[R]]
func.func @nested_region_sees_outer(%c: i1, %a: tensor<4xf32>) -> tensor<4xf32> {
  %e = red.exp %a : tensor<4xf32>
  %r = scf.if %c -> (tensor<4xf32>) {
    %e1 = red.exp %a : tensor<4xf32>
    %n = red.neg %e1 : tensor<4xf32>
    scf.yield %n : tensor<4xf32>
  } else {
    %e2 = red.exp %a : tensor<4xf32>
    scf.yield %e2 : tensor<4xf32>
  }
  func.return %r : tensor<4xf32>
}

// -----

// A value computed inside a nested region does not leak to the other branch or to the
// enclosing block.
// CHECK-LABEL: func.func @no_merge_out_of_nested_region
// CHECK:         scf.if
// CHECK-NEXT:      %[[E0:.*]] = red.exp
// CHECK-NEXT:      scf.yield %[[E0]]
// CHECK-NEXT:    } else {
// CHECK-NEXT:      %[[E1:.*]] = red.exp
// CHECK-NEXT:      %[[N:.*]] = red.neg %[[E1]]
// CHECK-NEXT:      scf.yield %[[N]]
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[E2:.*]] = red.exp
// CHECK-NEXT:    func.return %{{.*}}, %[[E2]]
func.func @no_merge_out_of_nested_region(%c: i1, %a: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %r = scf.if %c -> (tensor<4xf32>) {
    %e0 = red.exp %a : tensor<4xf32>
    scf.yield %e0 : tensor<4xf32>
  } else {
    %e1 = red.exp %a : tensor<4xf32>
    %n = red.neg %e1 : tensor<4xf32>
    scf.yield %n : tensor<4xf32>
  }
  %e2 = red.exp %a : tensor<4xf32>
  func.return %r, %e2 : tensor<4xf32>, tensor<4xf32>
}

// -----

// Two pure scf.if ops with structurally equal bodies merge.
// CHECK-LABEL: func.func @equal_region_ops
// CHECK-SAME:    (%[[C:.*]]: i1, %[[A:.*]]: tensor<4xf32>)
// CHECK:         %[[R:.*]] = scf.if %[[C]]
// CHECK-NOT:     scf.if
// CHECK:         func.return %[[R]], %[[R]]
func.func @equal_region_ops(%c: i1, %a: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %r0 = scf.if %c -> (tensor<4xf32>) {
    %e = red.exp %a : tensor<4xf32>
    scf.yield %e : tensor<4xf32>
  } else {
    %n = red.neg %a : tensor<4xf32>
    scf.yield %n : tensor<4xf32>
  }
  %r1 = scf.if %c -> (tensor<4xf32>) {
    %e = red.exp %a : tensor<4xf32>
    scf.yield %e : tensor<4xf32>
  } else {
    %n = red.neg %a : tensor<4xf32>
    scf.yield %n : tensor<4xf32>
  }
  func.return %r0, %r1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// Region bodies that become equal once an outer duplicate is merged are then equal too.
// CHECK-LABEL: func.func @equal_region_ops_after_operand_merge
// CHECK-SAME:    (%[[C:.*]]: i1, %[[A:.*]]: tensor<4xf32>)
// CHECK:         %[[E:.*]] = red.exp %[[A]]
// CHECK-NEXT:    %[[R:.*]] = scf.if %[[C]]
// CHECK-NEXT:      %[[N:.*]] = red.neg %[[E]]
// CHECK-NOT:     scf.if
// CHECK:         func.return %[[R]], %[[R]]
func.func @equal_region_ops_after_operand_merge(%c: i1, %a: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %e0 = red.exp %a : tensor<4xf32>
  %r0 = scf.if %c -> (tensor<4xf32>) {
    %n = red.neg %e0 : tensor<4xf32>
    scf.yield %n : tensor<4xf32>
  } else {
    scf.yield %e0 : tensor<4xf32>
  }
  %e1 = red.exp %a : tensor<4xf32>
  %r1 = scf.if %c -> (tensor<4xf32>) {
    %n = red.neg %e1 : tensor<4xf32>
    scf.yield %n : tensor<4xf32>
  } else {
    scf.yield %e1 : tensor<4xf32>
  }
  func.return %r0, %r1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// Region ops whose bodies differ (exp vs tanh) stay apart.
// CHECK-LABEL: func.func @no_merge_different_regions
// CHECK:         scf.if
// CHECK:           red.exp
// CHECK:         scf.if
// CHECK:           red.tanh
func.func @no_merge_different_regions(%c: i1, %a: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %r0 = scf.if %c -> (tensor<4xf32>) {
    %e = red.exp %a : tensor<4xf32>
    scf.yield %e : tensor<4xf32>
  } else {
    scf.yield %a : tensor<4xf32>
  }
  %r1 = scf.if %c -> (tensor<4xf32>) {
    %e = red.tanh %a : tensor<4xf32>
    scf.yield %e : tensor<4xf32>
  } else {
    scf.yield %a : tensor<4xf32>
  }
  func.return %r0, %r1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// red.memo is isolated from above: an op in its body equal to one outside stays (it
// cannot see the outer value), while duplicates inside the body merge.
// CHECK-LABEL: func.func @no_merge_into_isolated_memo
// CHECK-SAME:    (%[[W:.*]]: tensor<4x8xf32> {red.invariant})
// CHECK:         %[[T:.*]] = red.transpose %[[W]] [1, 0]
// CHECK-NEXT:    %[[M:.*]] = red.memo(%[[W]])
// CHECK-NEXT:    ^{{.*}}(%[[X:.*]]: tensor<4x8xf32>):
// CHECK-NEXT:      %[[U:.*]] = red.transpose %[[X]] [1, 0]
// CHECK-NEXT:      %[[A:.*]] = red.add %[[U]], %[[U]]
// CHECK-NEXT:      red.yield %[[A]]
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %[[T]], %[[M]]
func.func @no_merge_into_isolated_memo(%w: tensor<4x8xf32> {red.invariant}) -> (tensor<8x4xf32>, tensor<8x4xf32>) {
  %t = red.transpose %w [1, 0] : tensor<4x8xf32> -> tensor<8x4xf32>
  %m = red.memo(%w) : (tensor<4x8xf32>) -> tensor<8x4xf32> {
  ^bb0(%x: tensor<4x8xf32>):
    %u0 = red.transpose %x [1, 0] : tensor<4x8xf32> -> tensor<8x4xf32>
    %u1 = red.transpose %x [1, 0] : tensor<4x8xf32> -> tensor<8x4xf32>
    %a = red.add %u0, %u1 : tensor<8x4xf32>, tensor<8x4xf32> -> tensor<8x4xf32>
    red.yield %a : tensor<8x4xf32>
  }
  func.return %t, %m : tensor<8x4xf32>, tensor<8x4xf32>
}

// -----

// A constant inside an isolated memo body is not replaced by an outer constant either.
// CHECK-LABEL: func.func @no_merge_constant_into_memo
// CHECK:         red.constant dense<2.000000e+00>
// CHECK:         red.memo
// CHECK:           red.constant dense<2.000000e+00>
// CHECK:           red.yield
func.func @no_merge_constant_into_memo(%w: tensor<4xf32> {red.invariant}) -> (tensor<4xf32>, tensor<4xf32>) {
  %c = red.constant dense<2.0> : tensor<4xf32>
  %m = red.memo(%w) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<4xf32>):
    %k = red.constant dense<2.0> : tensor<4xf32>
    %y = red.mul %x, %k : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
    red.yield %y : tensor<4xf32>
  }
  func.return %c, %m : tensor<4xf32>, tensor<4xf32>
}

// -----

// Two memos with equal keys and equal bodies are one memo.
// CHECK-LABEL: func.func @equal_memos
// CHECK:         %[[M:.*]] = red.memo
// CHECK-NOT:     red.memo
// CHECK:         func.return %[[M]], %[[M]]
func.func @equal_memos(%w: tensor<4x8xf32> {red.invariant}) -> (tensor<8x4xf32>, tensor<8x4xf32>) {
  %m0 = red.memo(%w) : (tensor<4x8xf32>) -> tensor<8x4xf32> {
  ^bb0(%x: tensor<4x8xf32>):
    %u = red.transpose %x [1, 0] : tensor<4x8xf32> -> tensor<8x4xf32>
    red.yield %u : tensor<8x4xf32>
  }
  %m1 = red.memo(%w) : (tensor<4x8xf32>) -> tensor<8x4xf32> {
  ^bb0(%y: tensor<4x8xf32>):
    %v = red.transpose %y [1, 0] : tensor<4x8xf32> -> tensor<8x4xf32>
    red.yield %v : tensor<8x4xf32>
  }
  func.return %m0, %m1 : tensor<8x4xf32>, tensor<8x4xf32>
}

// -----

// Allocations have side effects: two equal memref.alloc ops are two buffers.
// CHECK-LABEL: func.func @no_merge_side_effects
// CHECK:         %[[M0:.*]] = memref.alloc() : memref<4xf32>
// CHECK-NEXT:    %[[M1:.*]] = memref.alloc() : memref<4xf32>
// CHECK-NEXT:    func.return %[[M0]], %[[M1]]
func.func @no_merge_side_effects() -> (memref<4xf32>, memref<4xf32>) {
  %0 = memref.alloc() : memref<4xf32>
  %1 = memref.alloc() : memref<4xf32>
  func.return %0, %1 : memref<4xf32>, memref<4xf32>
}

// -----

// Loads are not merged across a store that may change the memory.
// CHECK-LABEL: func.func @no_merge_loads_across_store
// CHECK:         memref.load
// CHECK-NEXT:    memref.store
// CHECK-NEXT:    memref.load
func.func @no_merge_loads_across_store(%m: memref<4xf32>, %i: index, %v: f32) -> (f32, f32) {
  %0 = memref.load %m[%i] : memref<4xf32>
  memref.store %v, %m[%i] : memref<4xf32>
  %1 = memref.load %m[%i] : memref<4xf32>
  func.return %0, %1 : f32, f32
}

// -----

// Calls to a function with side effects (or to an external declaration) are all kept.
// CHECK-LABEL: func.func @no_merge_impure_calls
// CHECK:         func.call @allocates
// CHECK-NEXT:    func.call @allocates
// CHECK-NEXT:    func.call @external
// CHECK-NEXT:    func.call @external
// CHECK-NEXT:    func.return
func.func private @allocates(%x: f32) -> memref<4xf32> {
  %m = memref.alloc() : memref<4xf32>
  func.return %m : memref<4xf32>
}
func.func private @external(tensor<4xf32>) -> tensor<4xf32>
func.func @no_merge_impure_calls(%x: f32, %t: tensor<4xf32>) -> (memref<4xf32>, memref<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0 = func.call @allocates(%x) : (f32) -> memref<4xf32>
  %1 = func.call @allocates(%x) : (f32) -> memref<4xf32>
  %2 = func.call @external(%t) : (tensor<4xf32>) -> tensor<4xf32>
  %3 = func.call @external(%t) : (tensor<4xf32>) -> tensor<4xf32>
  func.return %0, %1, %2, %3 : memref<4xf32>, memref<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// Calls to a pure private function with equal arguments merge, also through a pure
// callee that calls another pure function; different arguments stay apart.
// CHECK-LABEL: func.func @merge_pure_calls
// CHECK-SAME:    (%[[A:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK:         %[[C0:.*]] = func.call @softplus(%[[A]])
// CHECK-NEXT:    %[[C1:.*]] = func.call @softplus(%[[B]])
// CHECK-NEXT:    %[[D0:.*]] = func.call @twice(%[[A]])
// CHECK-NOT:     func.call
// CHECK:         func.return %[[C0]], %[[C0]], %[[C1]], %[[D0]], %[[D0]]
func.func private @softplus(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = red.exp %x : tensor<4xf32>
  %one = red.constant dense<1.0> : tensor<4xf32>
  %s = red.add %e, %one : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %l = red.log %s : tensor<4xf32>
  func.return %l : tensor<4xf32>
}
func.func private @twice(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = func.call @softplus(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %1 = red.add %0, %0 : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %1 : tensor<4xf32>
}
func.func @merge_pure_calls(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0 = func.call @softplus(%a) : (tensor<4xf32>) -> tensor<4xf32>
  %1 = func.call @softplus(%a) : (tensor<4xf32>) -> tensor<4xf32>
  %2 = func.call @softplus(%b) : (tensor<4xf32>) -> tensor<4xf32>
  %3 = func.call @twice(%a) : (tensor<4xf32>) -> tensor<4xf32>
  %4 = func.call @twice(%a) : (tensor<4xf32>) -> tensor<4xf32>
  func.return %0, %1, %2, %3, %4 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
