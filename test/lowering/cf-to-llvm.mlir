// RUN: red-opt %s -p convert-to-llvm --split-input-file | filecheck %s

// Branches target the converted blocks with the converted arguments.
// CHECK-LABEL: llvm.func @diamond
// CHECK-SAME:    (%[[C:.*]]: i1, %[[X:.*]]: i64, %[[Y:.*]]: i64) -> i64 {
// CHECK-NEXT:    llvm.cond_br %[[C]], ^[[THEN:.*]](%[[X]] : i64), ^[[ELSE:.*]]
// CHECK-NEXT:  ^[[THEN]](%[[A:.*]]: i64):
// CHECK-NEXT:    llvm.br ^[[JOIN:.*]](%[[A]] : i64)
// CHECK-NEXT:  ^[[ELSE]]:
// CHECK-NEXT:    llvm.br ^[[JOIN]](%[[Y]] : i64)
// CHECK-NEXT:  ^[[JOIN]](%[[R:.*]]: i64):
// CHECK-NEXT:    llvm.return %[[R]] : i64
func.func @diamond(%c: i1, %x: i64, %y: i64) -> i64 {
  cf.cond_br %c, ^bb1(%x : i64), ^bb2
^bb1(%a: i64):
  cf.br ^bb3(%a : i64)
^bb2:
  cf.br ^bb3(%y : i64)
^bb3(%r: i64):
  func.return %r : i64
}

// -----

// A loop: the header's argument is carried around the back edge (index is i64); constants
// are made at the top of the function, where they dominate every block.
// CHECK-LABEL: llvm.func @loop
// CHECK-SAME:    (%[[N:.*]]: i64) -> i64 {
// CHECK-NEXT:    %[[ZERO:.*]] = llvm.mlir.constant(0) : i64
// CHECK-NEXT:    %[[ONE:.*]] = llvm.mlir.constant(1) : i64
// CHECK-NEXT:    llvm.br ^[[HEAD:.*]](%[[ZERO]] : i64)
// CHECK-NEXT:  ^[[HEAD]](%[[I:.*]]: i64):
// CHECK-NEXT:    %[[LT:.*]] = llvm.icmp "slt" %[[I]], %[[N]] : i64
// CHECK-NEXT:    llvm.cond_br %[[LT]], ^[[BODY:.*]], ^[[EXIT:.*]]
// CHECK-NEXT:  ^[[BODY]]:
// CHECK-NEXT:    %[[NEXT:.*]] = llvm.add %[[I]], %[[ONE]] : i64
// CHECK-NEXT:    llvm.br ^[[HEAD]](%[[NEXT]] : i64)
// CHECK-NEXT:  ^[[EXIT]]:
// CHECK-NEXT:    llvm.return %[[I]] : i64
func.func @loop(%n: index) -> index {
  %zero = arith.constant 0 : index
  cf.br ^head(%zero : index)
^head(%i: index):
  %lt = arith.cmpi slt, %i, %n : index
  cf.cond_br %lt, ^body, ^exit
^body:
  %one = arith.constant 1 : index
  %next = arith.addi %i, %one : index
  cf.br ^head(%next : index)
^exit:
  func.return %i : index
}

// -----

// Blocks listed before the block that defines a value they use are converted after it (in
// dominance order), and keep their place.
// CHECK-LABEL: llvm.func @use_listed_before_definition
// CHECK-SAME:    (%[[X:.*]]: i64) -> i64 {
// CHECK-NEXT:    llvm.br ^[[DEF:.*]]
// CHECK-NEXT:  ^[[USE:.*]]:
// CHECK-NEXT:    %[[R:.*]] = llvm.add %[[D:.*]], %[[D]] : i64
// CHECK-NEXT:    llvm.return %[[R]] : i64
// CHECK-NEXT:  ^[[DEF]]:
// CHECK-NEXT:    %[[D]] = llvm.mul %[[X]], %[[X]] : i64
// CHECK-NEXT:    llvm.br ^[[USE]]
func.func @use_listed_before_definition(%x: i64) -> i64 {
  cf.br ^def
^use:
  %r = arith.addi %d, %d : i64
  func.return %r : i64
^def:
  %d = arith.muli %x, %x : i64
  cf.br ^use
}
