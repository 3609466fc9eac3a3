// RUN: red-opt %s -p convert-to-llvm --split-input-file | filecheck %s

// Scalar constants keep their value; an index constant becomes i64.
// CHECK-LABEL: llvm.func @constants
// CHECK-NEXT:    %[[F:.*]] = llvm.mlir.constant(2.500000e+00 : f32) : f32
// CHECK-NEXT:    %[[I:.*]] = llvm.mlir.constant(-7 : i32) : i32
// CHECK-NEXT:    %[[X:.*]] = llvm.mlir.constant(3) : i64
// CHECK-NEXT:    llvm.return %[[F]] : f32
func.func @constants() -> f32 {
  %f = arith.constant 2.5 : f32
  %i = arith.constant -7 : i32
  %x = arith.constant 3 : index
  func.return %f : f32
}

// -----

// A constant is made once per function, at its top, in the order of first use: equal ones
// are one value; 0.0 and -0.0 differ, and so do equal values of two types.
// CHECK-LABEL: llvm.func @constants_shared
// CHECK-SAME:    (%[[A:.*]]: f32, %[[C:.*]]: i1) -> f32
// CHECK-NEXT:    %[[ZERO:.*]] = llvm.mlir.constant(0.000000e+00 : f32) : f32
// CHECK-NEXT:    %[[NEG_ZERO:.*]] = llvm.mlir.constant(-0.000000e+00 : f32) : f32
// CHECK-NEXT:    %[[ONE_I32:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK-NEXT:    %[[ONE_I64:.*]] = llvm.mlir.constant(1) : i64
// CHECK-NEXT:    llvm.cond_br %[[C]], ^[[THEN:.*]], ^[[ELSE:.*]]
// CHECK-NEXT:  ^[[THEN]]:
// CHECK-NEXT:    %[[S:.*]] = llvm.fadd %[[A]], %[[ZERO]] : f32
// CHECK-NEXT:    %[[T:.*]] = llvm.fadd %[[S]], %[[NEG_ZERO]] : f32
// CHECK-NEXT:    llvm.return %[[T]] : f32
// CHECK-NEXT:  ^[[ELSE]]:
// CHECK-NEXT:    %[[U:.*]] = llvm.fadd %[[A]], %[[ZERO]] : f32
// CHECK-NEXT:    llvm.return %[[U]] : f32
func.func @constants_shared(%a: f32, %c: i1) -> f32 {
  %z = arith.constant 0.0 : f32
  %nz = arith.constant -0.0 : f32
  %i = arith.constant 1 : i32
  %j = arith.constant 1 : i64
  cf.cond_br %c, ^then, ^else
^then:
  %s = arith.addf %a, %z : f32
  %t = arith.addf %s, %nz : f32
  func.return %t : f32
^else:
  %z2 = arith.constant 0.0 : f32
  %u = arith.addf %a, %z2 : f32
  func.return %u : f32
}

// -----

// Float arithmetic maps one to one.
// CHECK-LABEL: llvm.func @float_binary
// CHECK-SAME:    (%[[A:.*]]: f64, %[[B:.*]]: f64) -> f64
// CHECK-NEXT:    %[[S:.*]] = llvm.fadd %[[A]], %[[B]] : f64
// CHECK-NEXT:    %[[D:.*]] = llvm.fsub %[[S]], %[[B]] : f64
// CHECK-NEXT:    %[[M:.*]] = llvm.fmul %[[D]], %[[S]] : f64
// CHECK-NEXT:    %[[Q:.*]] = llvm.fdiv %[[M]], %[[A]] : f64
// CHECK-NEXT:    %[[N:.*]] = llvm.fneg %[[Q]] : f64
// CHECK-NEXT:    llvm.return %[[N]] : f64
func.func @float_binary(%a: f64, %b: f64) -> f64 {
  %s = arith.addf %a, %b : f64
  %d = arith.subf %s, %b : f64
  %m = arith.mulf %d, %s : f64
  %q = arith.divf %m, %a : f64
  %n = arith.negf %q : f64
  func.return %n : f64
}

// -----

// Integer arithmetic maps one to one; index is i64.
// CHECK-LABEL: llvm.func @integer_binary
// CHECK-SAME:    (%[[A:.*]]: i64, %[[B:.*]]: i64) -> i64
// CHECK-NEXT:    %[[S:.*]] = llvm.add %[[A]], %[[B]] : i64
// CHECK-NEXT:    %[[D:.*]] = llvm.sub %[[S]], %[[B]] : i64
// CHECK-NEXT:    %[[M:.*]] = llvm.mul %[[D]], %[[A]] : i64
// CHECK-NEXT:    %[[AND:.*]] = llvm.and %[[M]], %[[A]] : i64
// CHECK-NEXT:    %[[OR:.*]] = llvm.or %[[AND]], %[[A]] : i64
// CHECK-NEXT:    %[[X:.*]] = llvm.xor %[[OR]], %[[B]] : i64
// CHECK-NEXT:    llvm.return %[[X]] : i64
func.func @integer_binary(%a: index, %b: index) -> index {
  %s = arith.addi %a, %b : index
  %d = arith.subi %s, %b : index
  %m = arith.muli %d, %a : index
  %and = arith.andi %m, %a : index
  %or = arith.ori %and, %a : index
  %x = arith.xori %or, %b : index
  func.return %x : index
}

// -----

// divsi is red's total division: the machine divides by 1 where the divisor is 0 or -1, then
// x / -1 is 0 - x (MIN stays MIN) and x / 0 is 0; selects, no branch.
// CHECK-LABEL: llvm.func @divsi_guarded
// CHECK-SAME:    (%[[X:.*]]: i32, %[[Y:.*]]: i32) -> i32
// CHECK-NEXT:    %[[ZERO:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT:    %[[ONE:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK-NEXT:    %[[MINUS_ONE:.*]] = llvm.mlir.constant(-1 : i32) : i32
// CHECK-NEXT:    %[[BY_ZERO:.*]] = llvm.icmp "eq" %[[Y]], %[[ZERO]] : i32
// CHECK-NEXT:    %[[BY_MINUS_ONE:.*]] = llvm.icmp "eq" %[[Y]], %[[MINUS_ONE]] : i32
// CHECK-NEXT:    %[[SPECIAL:.*]] = llvm.or %[[BY_ZERO]], %[[BY_MINUS_ONE]] : i1
// CHECK-NEXT:    %[[SAFE:.*]] = llvm.select %[[SPECIAL]], %[[ONE]], %[[Y]] : i1, i32
// CHECK-NEXT:    %[[Q:.*]] = llvm.sdiv %[[X]], %[[SAFE]] : i32
// CHECK-NEXT:    %[[NEG:.*]] = llvm.sub %[[ZERO]], %[[X]] : i32
// CHECK-NEXT:    %[[R1:.*]] = llvm.select %[[BY_MINUS_ONE]], %[[NEG]], %[[Q]] : i1, i32
// CHECK-NEXT:    %[[R:.*]] = llvm.select %[[BY_ZERO]], %[[ZERO]], %[[R1]] : i1, i32
// CHECK-NEXT:    llvm.return %[[R]] : i32
func.func @divsi_guarded(%x: i32, %y: i32) -> i32 {
  %q = arith.divsi %x, %y : i32
  func.return %q : i32
}

// -----

// remsi: x % 0 = 0 and MIN % -1 = 0 are x % 1, so the guarded divisor is all it needs.
// CHECK-LABEL: llvm.func @remsi_guarded
// CHECK-SAME:    (%[[X:.*]]: i64, %[[Y:.*]]: i64) -> i64
// CHECK:         %[[BY_ZERO:.*]] = llvm.icmp "eq" %[[Y]], %{{.*}} : i64
// CHECK-NEXT:    %[[BY_MINUS_ONE:.*]] = llvm.icmp "eq" %[[Y]], %{{.*}} : i64
// CHECK-NEXT:    %[[SPECIAL:.*]] = llvm.or %[[BY_ZERO]], %[[BY_MINUS_ONE]] : i1
// CHECK-NEXT:    %[[SAFE:.*]] = llvm.select %[[SPECIAL]], %{{.*}}, %[[Y]] : i1, i64
// CHECK-NEXT:    %[[R:.*]] = llvm.srem %[[X]], %[[SAFE]] : i64
// CHECK-NEXT:    llvm.return %[[R]] : i64
func.func @remsi_guarded(%x: i64, %y: i64) -> i64 {
  %r = arith.remsi %x, %y : i64
  func.return %r : i64
}

// -----

// A constant divisor other than 0 and -1 needs no guard (the matmul's tile remainders).
// CHECK-LABEL: llvm.func @no_guard_constant_divisor
// CHECK-SAME:    (%[[X:.*]]: i64) -> i64
// CHECK-NEXT:    %[[SEVEN:.*]] = llvm.mlir.constant(7) : i64
// CHECK-NEXT:    %[[Q:.*]] = llvm.sdiv %[[X]], %[[SEVEN]] : i64
// CHECK-NEXT:    %[[R:.*]] = llvm.srem %[[Q]], %[[SEVEN]] : i64
// CHECK-NEXT:    llvm.return %[[R]] : i64
func.func @no_guard_constant_divisor(%x: index) -> index {
  %c = arith.constant 7 : index
  %q = arith.divsi %x, %c : index
  %r = arith.remsi %q, %c : index
  func.return %r : index
}

// -----

// A constant divisor of 0 is guarded like any other (LLVM would take sdiv by 0 as poison).
// CHECK-LABEL: llvm.func @divsi_by_constant_zero
// CHECK:         llvm.select
// CHECK:         llvm.sdiv
// CHECK:         llvm.select
func.func @divsi_by_constant_zero(%x: i64) -> i64 {
  %z = arith.constant 0 : i64
  %q = arith.divsi %x, %z : i64
  func.return %q : i64
}

// -----

// maximumf is IEEE maximum: a > b or a is NaN ? a : (a == b ? a AND b as bits : b). NaN
// propagates from either side (a NaN b fails `ogt` and `oeq`); max(-0, +0) = +0 whatever the
// order; compares, bit operations and selects, not llvm.maximum.
// CHECK-LABEL: llvm.func @maximumf
// CHECK-SAME:    (%[[A:.*]]: f32, %[[B:.*]]: f32) -> f32
// CHECK-NEXT:    %[[EQ:.*]] = llvm.fcmp "oeq" %[[A]], %[[B]] : f32
// CHECK-NEXT:    %[[A_BITS:.*]] = llvm.bitcast %[[A]] : f32 to i32
// CHECK-NEXT:    %[[B_BITS:.*]] = llvm.bitcast %[[B]] : f32 to i32
// CHECK-NEXT:    %[[BOTH:.*]] = llvm.and %[[A_BITS]], %[[B_BITS]] : i32
// CHECK-NEXT:    %[[TIE:.*]] = llvm.bitcast %[[BOTH]] : i32 to f32
// CHECK-NEXT:    %[[OTHERWISE:.*]] = llvm.select %[[EQ]], %[[TIE]], %[[B]] : i1, f32
// CHECK-NEXT:    %[[GT:.*]] = llvm.fcmp "ogt" %[[A]], %[[B]] : f32
// CHECK-NEXT:    %[[NAN:.*]] = llvm.fcmp "uno" %[[A]], %[[A]] : f32
// CHECK-NEXT:    %[[KEEP:.*]] = llvm.or %[[GT]], %[[NAN]] : i1
// CHECK-NEXT:    %[[R:.*]] = llvm.select %[[KEEP]], %[[A]], %[[OTHERWISE]] : i1, f32
// CHECK-NEXT:    llvm.return %[[R]] : f32
func.func @maximumf(%a: f32, %b: f32) -> f32 {
  %r = arith.maximumf %a, %b : f32
  func.return %r : f32
}

// -----

// minimumf: a < b or a is NaN ? a : (a == b ? a OR b as bits : b): min(+0, -0) = -0.
// CHECK-LABEL: llvm.func @minimumf
// CHECK-SAME:    (%[[A:.*]]: f16, %[[B:.*]]: f16) -> f16
// CHECK-NEXT:    %[[EQ:.*]] = llvm.fcmp "oeq" %[[A]], %[[B]] : f16
// CHECK-NEXT:    %[[A_BITS:.*]] = llvm.bitcast %[[A]] : f16 to i16
// CHECK-NEXT:    %[[B_BITS:.*]] = llvm.bitcast %[[B]] : f16 to i16
// CHECK-NEXT:    %[[EITHER:.*]] = llvm.or %[[A_BITS]], %[[B_BITS]] : i16
// CHECK-NEXT:    %[[TIE:.*]] = llvm.bitcast %[[EITHER]] : i16 to f16
// CHECK-NEXT:    %[[OTHERWISE:.*]] = llvm.select %[[EQ]], %[[TIE]], %[[B]] : i1, f16
// CHECK-NEXT:    %[[LT:.*]] = llvm.fcmp "olt" %[[A]], %[[B]] : f16
// CHECK-NEXT:    %[[NAN:.*]] = llvm.fcmp "uno" %[[A]], %[[A]] : f16
// CHECK-NEXT:    %[[KEEP:.*]] = llvm.or %[[LT]], %[[NAN]] : i1
// CHECK-NEXT:    %[[R:.*]] = llvm.select %[[KEEP]], %[[A]], %[[OTHERWISE]] : i1, f16
// CHECK-NEXT:    llvm.return %[[R]] : f16
func.func @minimumf(%a: f16, %b: f16) -> f16 {
  %r = arith.minimumf %a, %b : f16
  func.return %r : f16
}

// -----

// maxnumf/minnumf (a NaN operand gives the other) are LLVM's maxnum/minnum intrinsics,
// named with their type.
// CHECK-LABEL: llvm.func @maxnum_minnum
// CHECK-SAME:    (%[[A:.*]]: f32, %[[B:.*]]: f32) -> f32
// CHECK-NEXT:    %[[MAX:.*]] = llvm.call_intrinsic "llvm.maxnum.f32"(%[[A]], %[[B]]) : (f32, f32) -> f32
// CHECK-NEXT:    %[[MIN:.*]] = llvm.call_intrinsic "llvm.minnum.f32"(%[[MAX]], %[[B]]) : (f32, f32) -> f32
// CHECK-NEXT:    llvm.return %[[MIN]] : f32
func.func @maxnum_minnum(%a: f32, %b: f32) -> f32 {
  %max = arith.maxnumf %a, %b : f32
  %min = arith.minnumf %max, %b : f32
  func.return %min : f32
}

// -----

// Signed integer max and min: icmp sgt/slt and a select.
// CHECK-LABEL: llvm.func @maxsi_minsi
// CHECK-SAME:    (%[[A:.*]]: i32, %[[B:.*]]: i32) -> i32
// CHECK-NEXT:    %[[GT:.*]] = llvm.icmp "sgt" %[[A]], %[[B]] : i32
// CHECK-NEXT:    %[[MAX:.*]] = llvm.select %[[GT]], %[[A]], %[[B]] : i1, i32
// CHECK-NEXT:    %[[LT:.*]] = llvm.icmp "slt" %[[MAX]], %[[B]] : i32
// CHECK-NEXT:    %[[MIN:.*]] = llvm.select %[[LT]], %[[MAX]], %[[B]] : i1, i32
// CHECK-NEXT:    llvm.return %[[MIN]] : i32
func.func @maxsi_minsi(%a: i32, %b: i32) -> i32 {
  %max = arith.maxsi %a, %b : i32
  %min = arith.minsi %max, %b : i32
  func.return %min : i32
}

// -----

// Compares keep their predicate; select is llvm.select.
// CHECK-LABEL: llvm.func @compare_select
// CHECK-SAME:    (%[[A:.*]]: f32, %[[B:.*]]: f32, %[[I:.*]]: i64, %[[J:.*]]: i64) -> f32
// CHECK-NEXT:    %[[LT:.*]] = llvm.fcmp "olt" %[[A]], %[[B]] : f32
// CHECK-NEXT:    %[[NE:.*]] = llvm.fcmp "une" %[[A]], %[[B]] : f32
// CHECK-NEXT:    %[[ULE:.*]] = llvm.icmp "ule" %[[I]], %[[J]] : i64
// CHECK-NEXT:    %[[EQ:.*]] = llvm.icmp "eq" %[[I]], %[[J]] : i64
// CHECK-NEXT:    %[[R:.*]] = llvm.select %[[ULE]], %[[A]], %[[B]] : i1, f32
// CHECK-NEXT:    llvm.return %[[R]] : f32
func.func @compare_select(%a: f32, %b: f32, %i: i64, %j: i64) -> f32 {
  %lt = arith.cmpf olt, %a, %b : f32
  %ne = arith.cmpf une, %a, %b : f32
  %ule = arith.cmpi ule, %i, %j : i64
  %eq = arith.cmpi eq, %i, %j : i64
  %r = arith.select %ule, %a, %b : f32
  func.return %r : f32
}

// -----

// Integer casts: sext/trunc for extsi, trunci and index_cast (index is i64), zext for extui.
// CHECK-LABEL: llvm.func @integer_casts
// CHECK-SAME:    (%[[A:.*]]: i32, %[[B:.*]]: i1, %[[X:.*]]: i64) -> i64
// CHECK-NEXT:    %[[EXT:.*]] = llvm.sext %[[A]] : i32 to i64
// CHECK-NEXT:    %[[TR:.*]] = llvm.trunc %[[EXT]] : i64 to i8
// CHECK-NEXT:    %[[Z:.*]] = llvm.zext %[[B]] : i1 to i32
// CHECK-NEXT:    %[[TOI:.*]] = llvm.sext %[[Z]] : i32 to i64
// CHECK-NEXT:    %[[FROMI:.*]] = llvm.trunc %[[X]] : i64 to i16
// CHECK-NEXT:    llvm.return %[[TOI]] : i64
func.func @integer_casts(%a: i32, %b: i1, %x: index) -> index {
  %ext = arith.extsi %a : i32 to i64
  %tr = arith.trunci %ext : i64 to i8
  %z = arith.extui %b : i1 to i32
  %toi = arith.index_cast %z : i32 to index
  %fromi = arith.index_cast %x : index to i16
  func.return %toi : index
}

// -----

// An index_cast between index and i64 emits nothing: both are i64.
// CHECK-LABEL: llvm.func @no_resize_index_to_i64
// CHECK-SAME:    (%[[X:.*]]: i64) -> i64
// CHECK-NEXT:    llvm.return %[[X]] : i64
func.func @no_resize_index_to_i64(%x: index) -> i64 {
  %r = arith.index_cast %x : index to i64
  func.return %r : i64
}

// -----

// Float casts: fpext/fptrunc, sitofp, and fptosi as the saturating intrinsic (out of range
// saturates and NaN gives 0, where plain fptosi would be poison).
// CHECK-LABEL: llvm.func @float_casts
// CHECK-SAME:    (%[[H:.*]]: f16, %[[I:.*]]: i64) -> i32
// CHECK-NEXT:    %[[F:.*]] = llvm.fpext %[[H]] : f16 to f32
// CHECK-NEXT:    %[[D:.*]] = llvm.fpext %[[F]] : f32 to f64
// CHECK-NEXT:    %[[T:.*]] = llvm.fptrunc %[[D]] : f64 to f32
// CHECK-NEXT:    %[[S:.*]] = llvm.sitofp %[[I]] : i64 to f32
// CHECK-NEXT:    %[[R:.*]] = llvm.call_intrinsic "llvm.fptosi.sat.i32.f32"(%[[T]]) : (f32) -> i32
// CHECK-NEXT:    llvm.return %[[R]] : i32
func.func @float_casts(%h: f16, %i: i64) -> i32 {
  %f = arith.extf %h : f16 to f32
  %d = arith.extf %f : f32 to f64
  %t = arith.truncf %d : f64 to f32
  %s = arith.sitofp %i : i64 to f32
  %r = arith.fptosi %t : f32 to i32
  func.return %r : i32
}

// -----

// A value used twice is converted once and both uses read it.
// CHECK-LABEL: llvm.func @several_uses
// CHECK-SAME:    (%[[A:.*]]: f32) -> f32
// CHECK-NEXT:    %[[S:.*]] = llvm.fadd %[[A]], %[[A]] : f32
// CHECK-NEXT:    %[[M:.*]] = llvm.fmul %[[S]], %[[S]] : f32
// CHECK-NEXT:    llvm.return %[[M]] : f32
func.func @several_uses(%a: f32) -> f32 {
  %s = arith.addf %a, %a : f32
  %m = arith.mulf %s, %s : f32
  func.return %m : f32
}
