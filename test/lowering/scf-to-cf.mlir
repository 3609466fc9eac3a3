// RUN: red-opt %s -p convert-scf-to-cf --split-input-file | filecheck %s

// scf.for: the body's block becomes the loop header (its arguments are the induction
// variable and the carried values), compared with slt; the body steps and branches back;
// the results are the header's carried arguments.
// CHECK-LABEL: func.func @for_iter_args
// CHECK-SAME:    (%[[LB:.*]]: index, %[[UB:.*]]: index, %[[STEP:.*]]: index, %[[INIT:.*]]: f32) -> f32 {
// CHECK-NEXT:    cf.br ^[[HEAD:.*]](%[[LB]], %[[INIT]] : index, f32)
// CHECK-NEXT:  ^[[HEAD]](%[[I:.*]]: index, %[[ACC:.*]]: f32):
// CHECK-NEXT:    %[[LT:.*]] = arith.cmpi slt, %[[I]], %[[UB]] : index
// CHECK-NEXT:    cf.cond_br %[[LT]], ^[[BODY:.*]], ^[[EXIT:.*]]
// CHECK-NEXT:  ^[[BODY]]:
// CHECK-NEXT:    %[[N:.*]] = arith.addf %[[ACC]], %[[ACC]] : f32
// CHECK-NEXT:    %[[NEXT:.*]] = arith.addi %[[I]], %[[STEP]] : index
// CHECK-NEXT:    cf.br ^[[HEAD]](%[[NEXT]], %[[N]] : index, f32)
// CHECK-NEXT:  ^[[EXIT]]:
// CHECK-NEXT:    %[[TWICE:.*]] = arith.mulf %[[ACC]], %[[ACC]] : f32
// CHECK-NEXT:    func.return %[[TWICE]] : f32
func.func @for_iter_args(%lb: index, %ub: index, %step: index, %init: f32) -> f32 {
  %r = scf.for %i = %lb to %ub step %step iter_args(%acc = %init) -> (f32) {
    %n = arith.addf %acc, %acc : f32
    scf.yield %n : f32
  }
  %twice = arith.mulf %r, %r : f32
  func.return %twice : f32
}

// -----

// Nested loops: the inner loop's exit block steps the outer loop; ops before, between and
// after the loops stay in order in the blocks control is in.
// CHECK-LABEL: func.func @nested_for
// CHECK-SAME:    (%[[M:.*]]: memref<4x8xf32>, %[[V:.*]]: f32) {
// CHECK-NEXT:    %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT:    %[[C1:.*]] = arith.constant 1 : index
// CHECK-NEXT:    %[[C4:.*]] = arith.constant 4 : index
// CHECK-NEXT:    %[[C8:.*]] = arith.constant 8 : index
// CHECK-NEXT:    cf.br ^[[OUTER:.*]](%[[C0]] : index)
// CHECK-NEXT:  ^[[OUTER]](%[[I:.*]]: index):
// CHECK-NEXT:    %[[LTI:.*]] = arith.cmpi slt, %[[I]], %[[C4]] : index
// CHECK-NEXT:    cf.cond_br %[[LTI]], ^[[OUTER_BODY:.*]], ^[[DONE:.*]]
// CHECK-NEXT:  ^[[OUTER_BODY]]:
// CHECK-NEXT:    cf.br ^[[INNER:.*]](%[[C0]] : index)
// CHECK-NEXT:  ^[[INNER]](%[[J:.*]]: index):
// CHECK-NEXT:    %[[LTJ:.*]] = arith.cmpi slt, %[[J]], %[[C8]] : index
// CHECK-NEXT:    cf.cond_br %[[LTJ]], ^[[INNER_BODY:.*]], ^[[INNER_EXIT:.*]]
// CHECK-NEXT:  ^[[INNER_BODY]]:
// CHECK-NEXT:    memref.store %[[V]], %[[M]][%[[I]], %[[J]]] : memref<4x8xf32>
// CHECK-NEXT:    %[[NEXTJ:.*]] = arith.addi %[[J]], %[[C1]] : index
// CHECK-NEXT:    cf.br ^[[INNER]](%[[NEXTJ]] : index)
// CHECK-NEXT:  ^[[INNER_EXIT]]:
// CHECK-NEXT:    %[[NEXTI:.*]] = arith.addi %[[I]], %[[C1]] : index
// CHECK-NEXT:    cf.br ^[[OUTER]](%[[NEXTI]] : index)
// CHECK-NEXT:  ^[[DONE]]:
// CHECK-NEXT:    func.return
func.func @nested_for(%m: memref<4x8xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %j = %c0 to %c8 step %c1 {
      memref.store %v, %m[%i, %j] : memref<4x8xf32>
    }
  }
  func.return
}

// -----

// scf.if with results: both branches go to a continuation block whose arguments are the
// results.
// CHECK-LABEL: func.func @if_else
// CHECK-SAME:    (%[[C:.*]]: i1, %[[A:.*]]: i32, %[[B:.*]]: i32) -> i32 {
// CHECK-NEXT:    cf.cond_br %[[C]], ^[[THEN:.*]], ^[[ELSE:.*]]
// CHECK-NEXT:  ^[[THEN]]:
// CHECK-NEXT:    %[[X:.*]] = arith.addi %[[A]], %[[B]] : i32
// CHECK-NEXT:    cf.br ^[[JOIN:.*]](%[[X]] : i32)
// CHECK-NEXT:  ^[[ELSE]]:
// CHECK-NEXT:    cf.br ^[[JOIN]](%[[B]] : i32)
// CHECK-NEXT:  ^[[JOIN]](%[[R:.*]]: i32):
// CHECK-NEXT:    %[[Z:.*]] = arith.muli %[[R]], %[[R]] : i32
// CHECK-NEXT:    func.return %[[Z]] : i32
func.func @if_else(%c: i1, %a: i32, %b: i32) -> i32 {
  %r = scf.if %c -> (i32) {
    %x = arith.addi %a, %b : i32
    scf.yield %x : i32
  } else {
    scf.yield %b : i32
  }
  %z = arith.muli %r, %r : i32
  func.return %z : i32
}

// -----

// scf.if without else: the false edge goes straight to the continuation.
// CHECK-LABEL: func.func @if_then
// CHECK-SAME:    (%[[C:.*]]: i1, %[[M:.*]]: memref<1xi8>, %[[V:.*]]: i8) {
// CHECK-NEXT:    %[[Z:.*]] = arith.constant 0 : index
// CHECK-NEXT:    cf.cond_br %[[C]], ^[[THEN:.*]], ^[[JOIN:.*]]
// CHECK-NEXT:  ^[[THEN]]:
// CHECK-NEXT:    memref.store %[[V]], %[[M]][%[[Z]]] : memref<1xi8>
// CHECK-NEXT:    cf.br ^[[JOIN]]
// CHECK-NEXT:  ^[[JOIN]]:
// CHECK-NEXT:    func.return
func.func @if_then(%c: i1, %m: memref<1xi8>, %v: i8) {
  %z = arith.constant 0 : index
  scf.if %c {
    memref.store %v, %m[%z] : memref<1xi8>
  }
  func.return
}

// -----

// scf.while: the before block ends in a conditional branch to the after block (with the
// condition's arguments) or out of the loop; the after block branches back with the yielded
// values; the results are the condition's arguments.
// CHECK-LABEL: func.func @while_loop
// CHECK-SAME:    (%[[INIT:.*]]: i32, %[[N:.*]]: i32) -> i32 {
// CHECK-NEXT:    cf.br ^[[BEFORE:.*]](%[[INIT]] : i32)
// CHECK-NEXT:  ^[[BEFORE]](%[[ARG:.*]]: i32):
// CHECK-NEXT:    %[[C:.*]] = arith.cmpi slt, %[[ARG]], %[[N]] : i32
// CHECK-NEXT:    cf.cond_br %[[C]], ^[[AFTER:.*]](%[[ARG]] : i32), ^[[EXIT:.*]]
// CHECK-NEXT:  ^[[AFTER]](%[[X:.*]]: i32):
// CHECK-NEXT:    %[[Y:.*]] = arith.addi %[[X]], %[[X]] : i32
// CHECK-NEXT:    cf.br ^[[BEFORE]](%[[Y]] : i32)
// CHECK-NEXT:  ^[[EXIT]]:
// CHECK-NEXT:    func.return %[[ARG]] : i32
func.func @while_loop(%init: i32, %n: i32) -> i32 {
  %r = scf.while (%arg = %init) : (i32) -> i32 {
    %c = arith.cmpi slt, %arg, %n : i32
    scf.condition(%c) %arg : i32
  } do {
  ^bb0(%x: i32):
    %y = arith.addi %x, %x : i32
    scf.yield %y : i32
  }
  func.return %r : i32
}

// -----

// scf ops in sequence and nested (an if in a loop): each op after one of them moves, once,
// into the continuation block.
// CHECK-LABEL: func.func @sequence
// CHECK-SAME:    (%[[C:.*]]: i1, %[[N:.*]]: index, %[[A:.*]]: f32) -> f32 {
// CHECK-NEXT:    %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT:    %[[C1:.*]] = arith.constant 1 : index
// CHECK-NEXT:    cf.br ^[[HEAD:.*]](%[[C0]], %[[A]] : index, f32)
// CHECK-NEXT:  ^[[HEAD]](%[[I:.*]]: index, %[[ACC:.*]]: f32):
// CHECK-NEXT:    %[[LT:.*]] = arith.cmpi slt, %[[I]], %[[N]] : index
// CHECK-NEXT:    cf.cond_br %[[LT]], ^[[BODY:.*]], ^[[EXIT:.*]]
// CHECK-NEXT:  ^[[BODY]]:
// CHECK-NEXT:    cf.cond_br %[[C]], ^[[THEN:.*]], ^[[ELSE:.*]]
// CHECK-NEXT:  ^[[THEN]]:
// CHECK-NEXT:    %[[D:.*]] = arith.addf %[[ACC]], %[[A]] : f32
// CHECK-NEXT:    cf.br ^[[JOIN:.*]](%[[D]] : f32)
// CHECK-NEXT:  ^[[ELSE]]:
// CHECK-NEXT:    cf.br ^[[JOIN]](%[[ACC]] : f32)
// CHECK-NEXT:  ^[[JOIN]](%[[V:.*]]: f32):
// CHECK-NEXT:    %[[NEXT:.*]] = arith.addi %[[I]], %[[C1]] : index
// CHECK-NEXT:    cf.br ^[[HEAD]](%[[NEXT]], %[[V]] : index, f32)
// CHECK-NEXT:  ^[[EXIT]]:
// CHECK-NEXT:    %[[M:.*]] = arith.mulf %[[ACC]], %[[ACC]] : f32
// CHECK-NEXT:    cf.cond_br %[[C]], ^[[THEN2:.*]], ^[[JOIN2:.*]]
// CHECK-NEXT:  ^[[THEN2]]:
// CHECK-NEXT:    %[[NEG:.*]] = arith.negf %[[M]] : f32
// CHECK-NEXT:    cf.br ^[[JOIN2]]
// CHECK-NEXT:  ^[[JOIN2]]:
// CHECK-NEXT:    func.return %[[M]] : f32
func.func @sequence(%c: i1, %n: index, %a: f32) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %s = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %a) -> (f32) {
    %v = scf.if %c -> (f32) {
      %d = arith.addf %acc, %a : f32
      scf.yield %d : f32
    } else {
      scf.yield %acc : f32
    }
    scf.yield %v : f32
  }
  %m = arith.mulf %s, %s : f32
  scf.if %c {
    %neg = arith.negf %m : f32
  }
  func.return %m : f32
}

// -----

// scf.execute_region: its blocks inlined, each scf.yield a branch to the continuation.
// CHECK-LABEL: func.func @execute_region
// CHECK-SAME:    (%[[C:.*]]: i1, %[[A:.*]]: i64, %[[B:.*]]: i64) -> i64 {
// CHECK-NEXT:    cf.br ^[[ENTRY:.*]]
// CHECK-NEXT:  ^[[ENTRY]]:
// CHECK-NEXT:    cf.cond_br %[[C]], ^[[LEFT:.*]], ^[[RIGHT:.*]]
// CHECK-NEXT:  ^[[LEFT]]:
// CHECK-NEXT:    cf.br ^[[JOIN:.*]](%[[A]] : i64)
// CHECK-NEXT:  ^[[RIGHT]]:
// CHECK-NEXT:    cf.br ^[[JOIN]](%[[B]] : i64)
// CHECK-NEXT:  ^[[JOIN]](%[[R:.*]]: i64):
// CHECK-NEXT:    func.return %[[R]] : i64
func.func @execute_region(%c: i1, %a: i64, %b: i64) -> i64 {
  %r = scf.execute_region -> i64 {
    cf.cond_br %c, ^bb1, ^bb2
  ^bb1:
    scf.yield %a : i64
  ^bb2:
    scf.yield %b : i64
  }
  func.return %r : i64
}

// -----

// scf.index_switch: cf.switch on the index cast to i32, each case branching to the
// continuation with its value.
// CHECK-LABEL: func.func @index_switch
// CHECK-SAME:    (%[[X:.*]]: index) -> i32 {
// CHECK-NEXT:    %[[FLAG:.*]] = arith.index_cast %[[X]] : index to i32
// CHECK-NEXT:    cf.switch %[[FLAG]] : i32, [
// CHECK-NEXT:      default: ^[[DEFAULT:.*]],
// CHECK-NEXT:      2: ^[[TWO:.*]],
// CHECK-NEXT:      5: ^[[FIVE:.*]]
// CHECK-NEXT:    ]
// CHECK-NEXT:  ^[[TWO]]:
// CHECK-NEXT:    %[[A:.*]] = arith.constant 20 : i32
// CHECK-NEXT:    cf.br ^[[JOIN:.*]](%[[A]] : i32)
// CHECK-NEXT:  ^[[FIVE]]:
// CHECK-NEXT:    %[[B:.*]] = arith.constant 50 : i32
// CHECK-NEXT:    cf.br ^[[JOIN]](%[[B]] : i32)
// CHECK-NEXT:  ^[[DEFAULT]]:
// CHECK-NEXT:    %[[D:.*]] = arith.constant -1 : i32
// CHECK-NEXT:    cf.br ^[[JOIN]](%[[D]] : i32)
// CHECK-NEXT:  ^[[JOIN]](%[[R:.*]]: i32):
// CHECK-NEXT:    func.return %[[R]] : i32
func.func @index_switch(%x: index) -> i32 {
  %r = scf.index_switch %x -> i32
  case 2 {
    %a = arith.constant 20 : i32
    scf.yield %a : i32
  }
  case 5 {
    %b = arith.constant 50 : i32
    scf.yield %b : i32
  }
  default {
    %d = arith.constant -1 : i32
    scf.yield %d : i32
  }
  func.return %r : i32
}

// -----

// Without scf ops, nothing changes.
// CHECK-LABEL: func.func @no_structured_control_flow
// CHECK-SAME:    (%[[A:.*]]: i64) -> i64 {
// CHECK-NEXT:    %[[S:.*]] = arith.addi %[[A]], %[[A]] : i64
// CHECK-NEXT:    func.return %[[S]] : i64
// CHECK-NEXT:  }
func.func @no_structured_control_flow(%a: i64) -> i64 {
  %s = arith.addi %a, %a : i64
  func.return %s : i64
}
