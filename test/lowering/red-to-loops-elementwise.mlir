// RUN: red-opt %s -p convert-red-to-loops --split-input-file | filecheck %s

// The elementwise rules of convert-red-to-loops (lowering/loops/elementwise.py): each op's
// value at one index. A chain of them is one fused loop nest, so each case checks one
// loop body op by op.

// Float arithmetic; max and min are IEEE maximum/minimum (NaN propagates, as in numpy).
// CHECK-LABEL: func.func @red_float_arithmetic
// CHECK-SAME:    (%[[A:.*]]: memref<4xf32>, %[[B:.*]]: memref<4xf32>, %[[RES:.*]]: memref<4xf32>) {
// CHECK:         scf.for %[[I:.*]] = {{.*}} {
// CHECK-NEXT:      %[[X:.*]] = memref.load %[[A]][%[[I]]] : memref<4xf32>
// CHECK-NEXT:      %[[Y:.*]] = memref.load %[[B]][%[[I]]] : memref<4xf32>
// CHECK-NEXT:      %[[ADD:.*]] = arith.addf %[[X]], %[[Y]] : f32
// CHECK-NEXT:      %[[Y1:.*]] = memref.load %[[B]][%[[I]]] : memref<4xf32>
// CHECK-NEXT:      %[[SUB:.*]] = arith.subf %[[ADD]], %[[Y1]] : f32
// CHECK-NEXT:      %[[Y2:.*]] = memref.load %[[B]][%[[I]]] : memref<4xf32>
// CHECK-NEXT:      %[[MUL:.*]] = arith.mulf %[[SUB]], %[[Y2]] : f32
// CHECK-NEXT:      %[[Y3:.*]] = memref.load %[[B]][%[[I]]] : memref<4xf32>
// CHECK-NEXT:      %[[DIV:.*]] = arith.divf %[[MUL]], %[[Y3]] : f32
// CHECK-NEXT:      %[[Y4:.*]] = memref.load %[[B]][%[[I]]] : memref<4xf32>
// CHECK-NEXT:      %[[MAX:.*]] = arith.maximumf %[[DIV]], %[[Y4]] : f32
// CHECK-NEXT:      %[[Y5:.*]] = memref.load %[[B]][%[[I]]] : memref<4xf32>
// CHECK-NEXT:      %[[MIN:.*]] = arith.minimumf %[[MAX]], %[[Y5]] : f32
// CHECK-NEXT:      %[[Y6:.*]] = memref.load %[[B]][%[[I]]] : memref<4xf32>
// CHECK-NEXT:      %[[POW:.*]] = math.powf %[[MIN]], %[[Y6]] : f32
// CHECK-NEXT:      memref.store %[[POW]], %[[RES]][%[[I]]] : memref<4xf32>
// CHECK-NEXT:    }
func.func @float_arithmetic(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %0 = red.add %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %1 = red.sub %0, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %2 = red.mul %1, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %3 = red.div %2, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %4 = red.max %3, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %5 = red.min %4, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %6 = red.pow %5, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %6 : tensor<4xf32>
}

// -----

// Integer arithmetic is signed (division truncates, as the interpreter's).
// CHECK-LABEL: func.func @red_integer_arithmetic
// CHECK-SAME:    (%[[A:.*]]: memref<4xi64>, %[[B:.*]]: memref<4xi64>, %[[RES:.*]]: memref<4xi64>) {
// CHECK:           %[[X:.*]] = memref.load %[[A]][%[[I:.*]]] : memref<4xi64>
// CHECK-NEXT:      %[[Y:.*]] = memref.load %[[B]][%[[I]]] : memref<4xi64>
// CHECK-NEXT:      %[[ADD:.*]] = arith.addi %[[X]], %[[Y]] : i64
// CHECK:           %[[SUB:.*]] = arith.subi %[[ADD]], %{{.*}} : i64
// CHECK:           %[[MUL:.*]] = arith.muli %[[SUB]], %{{.*}} : i64
// CHECK:           %[[DIV:.*]] = arith.divsi %[[MUL]], %{{.*}} : i64
// CHECK:           %[[MAX:.*]] = arith.maxsi %[[DIV]], %{{.*}} : i64
// CHECK:           %[[MIN:.*]] = arith.minsi %[[MAX]], %{{.*}} : i64
// CHECK-NEXT:      memref.store %[[MIN]], %[[RES]][%[[I]]] : memref<4xi64>
func.func @integer_arithmetic(%a: tensor<4xi64>, %b: tensor<4xi64>) -> tensor<4xi64> {
  %0 = red.add %a, %b : tensor<4xi64>, tensor<4xi64> -> tensor<4xi64>
  %1 = red.sub %0, %b : tensor<4xi64>, tensor<4xi64> -> tensor<4xi64>
  %2 = red.mul %1, %b : tensor<4xi64>, tensor<4xi64> -> tensor<4xi64>
  %3 = red.div %2, %b : tensor<4xi64>, tensor<4xi64> -> tensor<4xi64>
  %4 = red.max %3, %b : tensor<4xi64>, tensor<4xi64> -> tensor<4xi64>
  %5 = red.min %4, %b : tensor<4xi64>, tensor<4xi64> -> tensor<4xi64>
  func.return %5 : tensor<4xi64>
}

// -----

// Float compares are ordered (false on NaN) except ne, which is unordered (true on NaN).
// CHECK-LABEL: func.func @red_compare_float
// CHECK:         arith.cmpf oeq, %{{.*}}, %{{.*}} : f32
// CHECK:         arith.cmpf une, %{{.*}}, %{{.*}} : f32
// CHECK:         arith.cmpf olt, %{{.*}}, %{{.*}} : f32
// CHECK:         arith.cmpf ole, %{{.*}}, %{{.*}} : f32
// CHECK:         arith.cmpf ogt, %{{.*}}, %{{.*}} : f32
// CHECK:         %[[GE:.*]] = arith.cmpf oge, %{{.*}}, %{{.*}} : f32
// CHECK-NEXT:    memref.store %[[GE]], %{{.*}}[%{{.*}}] : memref<4xi1>
func.func @compare_float(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>) {
  %0 = red.eq %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xi1>
  %1 = red.ne %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xi1>
  %2 = red.lt %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xi1>
  %3 = red.le %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xi1>
  %4 = red.gt %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xi1>
  %5 = red.ge %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xi1>
  func.return %0, %1, %2, %3, %4, %5 : tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>
}

// -----

// Integer compares are signed; bools compare unsigned (numpy orders False < True, and true
// is -1 as a signed i1).
// CHECK-LABEL: func.func @red_compare_integer
// CHECK-SAME:    (%[[A:.*]]: memref<4xi64>, %[[B:.*]]: memref<4xi64>, %[[P:.*]]: memref<4xi1>, %[[Q:.*]]: memref<4xi1>, %{{.*}}: memref<4xi1>, %{{.*}}: memref<4xi1>) {
// CHECK:         %[[X:.*]] = memref.load %[[A]]
// CHECK-NEXT:    %[[Y:.*]] = memref.load %[[B]]
// CHECK-NEXT:    arith.cmpi slt, %[[X]], %[[Y]] : i64
// CHECK:         %[[U:.*]] = memref.load %[[P]]
// CHECK-NEXT:    %[[V:.*]] = memref.load %[[Q]]
// CHECK-NEXT:    arith.cmpi uge, %[[U]], %[[V]] : i1
func.func @compare_integer(%a: tensor<4xi64>, %b: tensor<4xi64>, %p: tensor<4xi1>, %q: tensor<4xi1>) -> (tensor<4xi1>, tensor<4xi1>) {
  %0 = red.lt %a, %b : tensor<4xi64>, tensor<4xi64> -> tensor<4xi1>
  %1 = red.ge %p, %q : tensor<4xi1>, tensor<4xi1> -> tensor<4xi1>
  func.return %0, %1 : tensor<4xi1>, tensor<4xi1>
}

// -----

// Unary float functions: the math dialect's, relu as maximum with 0, rsqrt as 1 / sqrt.
// CHECK-LABEL: func.func @red_unary_float
// CHECK-SAME:    (%[[A:.*]]: memref<4xf32>, %[[RES:.*]]: memref<4xf32>) {
// CHECK-DAG:     %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:           %[[X:.*]] = memref.load %[[A]][%[[I:.*]]] : memref<4xf32>
// CHECK-NEXT:      %[[NEG:.*]] = arith.negf %[[X]] : f32
// CHECK-NEXT:      %[[ABS:.*]] = math.absf %[[NEG]] : f32
// CHECK-NEXT:      %[[RELU:.*]] = arith.maximumf %[[ABS]], %[[ZERO]] : f32
// CHECK-NEXT:      %[[EXP:.*]] = math.exp %[[RELU]] : f32
// CHECK-NEXT:      %[[LOG:.*]] = math.log %[[EXP]] : f32
// CHECK-NEXT:      %[[SQRT:.*]] = math.sqrt %[[LOG]] : f32
// CHECK-NEXT:      %[[ROOT:.*]] = math.sqrt %[[SQRT]] : f32
// CHECK-NEXT:      %[[RSQRT:.*]] = arith.divf %[[ONE]], %[[ROOT]] : f32
// CHECK-NEXT:      %[[TANH:.*]] = math.tanh %[[RSQRT]] : f32
// CHECK-NEXT:      %[[ERF:.*]] = math.erf %[[TANH]] : f32
// CHECK-NEXT:      %[[SIN:.*]] = math.sin %[[ERF]] : f32
// CHECK-NEXT:      %[[COS:.*]] = math.cos %[[SIN]] : f32
// CHECK-NEXT:      memref.store %[[COS]], %[[RES]][%[[I]]] : memref<4xf32>
func.func @unary_float(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = red.neg %a : tensor<4xf32>
  %1 = red.abs %0 : tensor<4xf32>
  %2 = red.relu %1 : tensor<4xf32>
  %3 = red.exp %2 : tensor<4xf32>
  %4 = red.log %3 : tensor<4xf32>
  %5 = red.sqrt %4 : tensor<4xf32>
  %6 = red.rsqrt %5 : tensor<4xf32>
  %7 = red.tanh %6 : tensor<4xf32>
  %8 = red.erf %7 : tensor<4xf32>
  %9 = red.sin %8 : tensor<4xf32>
  %10 = red.cos %9 : tensor<4xf32>
  func.return %10 : tensor<4xf32>
}

// -----

// sigmoid is 1 / (1 + exp(-x)); silu is x·sigmoid(x); gelu is 0.5·x·(1 + erf(x/√2)), or
// with torch's tanh approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
// CHECK-LABEL: func.func @red_sigmoid_silu_gelu
// CHECK-SAME:    (%[[A:.*]]: memref<4xf32>, %[[RES:.*]]: memref<4xf32>) {
// CHECK-DAG:     %[[SQRT2PI:.*]] = arith.constant 0.797884583 : f32
// CHECK-DAG:     %[[CUBIC:.*]] = arith.constant 4.471500e-02 : f32
// CHECK-DAG:     %[[RSQRT2:.*]] = arith.constant 0.707106769 : f32
// CHECK-DAG:     %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG:     %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK:           %[[X:.*]] = memref.load %[[A]][%[[I:.*]]] : memref<4xf32>
// CHECK-NEXT:      %[[NX:.*]] = arith.negf %[[X]] : f32
// CHECK-NEXT:      %[[E:.*]] = math.exp %[[NX]] : f32
// CHECK-NEXT:      %[[D:.*]] = arith.addf %[[ONE]], %[[E]] : f32
// CHECK-NEXT:      %[[SIG:.*]] = arith.divf %[[ONE]], %[[D]] : f32
// CHECK-NEXT:      %[[NS:.*]] = arith.negf %[[SIG]] : f32
// CHECK-NEXT:      %[[ES:.*]] = math.exp %[[NS]] : f32
// CHECK-NEXT:      %[[DS:.*]] = arith.addf %[[ONE]], %[[ES]] : f32
// CHECK-NEXT:      %[[SIG2:.*]] = arith.divf %[[ONE]], %[[DS]] : f32
// CHECK-NEXT:      %[[SILU:.*]] = arith.mulf %[[SIG]], %[[SIG2]] : f32
// CHECK-NEXT:      %[[SCALED:.*]] = arith.mulf %[[SILU]], %[[RSQRT2]] : f32
// CHECK-NEXT:      %[[ERF:.*]] = math.erf %[[SCALED]] : f32
// CHECK-NEXT:      %[[HX:.*]] = arith.mulf %[[HALF]], %[[SILU]] : f32
// CHECK-NEXT:      %[[OPE:.*]] = arith.addf %[[ONE]], %[[ERF]] : f32
// CHECK-NEXT:      %[[GELU:.*]] = arith.mulf %[[HX]], %[[OPE]] : f32
// CHECK-NEXT:      %[[SQ:.*]] = arith.mulf %[[GELU]], %[[GELU]] : f32
// CHECK-NEXT:      %[[CUBE:.*]] = arith.mulf %[[SQ]], %[[GELU]] : f32
// CHECK-NEXT:      %[[TERM:.*]] = arith.mulf %[[CUBIC]], %[[CUBE]] : f32
// CHECK-NEXT:      %[[INNER:.*]] = arith.addf %[[GELU]], %[[TERM]] : f32
// CHECK-NEXT:      %[[ARG:.*]] = arith.mulf %[[SQRT2PI]], %[[INNER]] : f32
// CHECK-NEXT:      %[[T:.*]] = math.tanh %[[ARG]] : f32
// CHECK-NEXT:      %[[HG:.*]] = arith.mulf %[[HALF]], %[[GELU]] : f32
// CHECK-NEXT:      %[[OPT:.*]] = arith.addf %[[ONE]], %[[T]] : f32
// CHECK-NEXT:      %[[R:.*]] = arith.mulf %[[HG]], %[[OPT]] : f32
// CHECK-NEXT:      memref.store %[[R]], %[[RES]][%[[I]]] : memref<4xf32>
func.func @sigmoid_silu_gelu(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = red.sigmoid %a : tensor<4xf32>
  %1 = red.silu %0 : tensor<4xf32>
  %2 = red.gelu %1 : tensor<4xf32>
  %3 = red.gelu %2 approximate = "tanh" : tensor<4xf32>
  func.return %3 : tensor<4xf32>
}

// -----

// Integer neg, abs and relu: 0 - x, x < 0 ? 0 - x : x, max(x, 0).
// CHECK-LABEL: func.func @red_unary_integer
// CHECK-SAME:    (%[[A:.*]]: memref<4xi32>, %[[RES:.*]]: memref<4xi32>) {
// CHECK:         %[[ZERO:.*]] = arith.constant 0 : i32
// CHECK:           %[[X:.*]] = memref.load %[[A]][%[[I:.*]]] : memref<4xi32>
// CHECK-NEXT:      %[[NEG:.*]] = arith.subi %[[ZERO]], %[[X]] : i32
// CHECK-NEXT:      %[[LT:.*]] = arith.cmpi slt, %[[NEG]], %[[ZERO]] : i32
// CHECK-NEXT:      %[[FLIP:.*]] = arith.subi %[[ZERO]], %[[NEG]] : i32
// CHECK-NEXT:      %[[ABS:.*]] = arith.select %[[LT]], %[[FLIP]], %[[NEG]] : i32
// CHECK-NEXT:      %[[RELU:.*]] = arith.maxsi %[[ABS]], %[[ZERO]] : i32
// CHECK-NEXT:      memref.store %[[RELU]], %[[RES]][%[[I]]] : memref<4xi32>
func.func @unary_integer(%a: tensor<4xi32>) -> tensor<4xi32> {
  %0 = red.neg %a : tensor<4xi32>
  %1 = red.abs %0 : tensor<4xi32>
  %2 = red.relu %1 : tensor<4xi32>
  func.return %2 : tensor<4xi32>
}

// -----

// select broadcasts its three operands like numpy: a size-1 dim reads index 0, a missing
// leading dim is not indexed, a 0-d operand is read at [].
// CHECK-LABEL: func.func @red_select_broadcast
// CHECK-SAME:    (%[[C:.*]]: memref<4x1xi1>, %[[T:.*]]: memref<8xf32>, %[[F:.*]]: memref<f32>, %[[RES:.*]]: memref<4x8xf32>) {
// CHECK:         %[[ZERO:.*]] = arith.constant 0 : index
// CHECK:         scf.for %[[I:.*]] = {{.*}} {
// CHECK-NEXT:      scf.for %[[J:.*]] = {{.*}} {
// CHECK-NEXT:        %[[CV:.*]] = memref.load %[[C]][%[[I]], %[[ZERO]]] : memref<4x1xi1>
// CHECK-NEXT:        %[[TV:.*]] = memref.load %[[T]][%[[J]]] : memref<8xf32>
// CHECK-NEXT:        %[[FV:.*]] = memref.load %[[F]][] : memref<f32>
// CHECK-NEXT:        %[[R:.*]] = arith.select %[[CV]], %[[TV]], %[[FV]] : f32
// CHECK-NEXT:        memref.store %[[R]], %[[RES]][%[[I]], %[[J]]] : memref<4x8xf32>
func.func @select_broadcast(%c: tensor<4x1xi1>, %t: tensor<8xf32>, %f: tensor<f32>) -> tensor<4x8xf32> {
  %r = red.select %c, %t, %f : tensor<4x1xi1>, tensor<8xf32>, tensor<f32> -> tensor<4x8xf32>
  func.return %r : tensor<4x8xf32>
}

// -----

// cast is numpy's astype: floats truncate or extend, float to int truncates toward zero
// (saturating fptosi), ints sign-extend or truncate, bools become 0/1, and to bool is != 0.
// CHECK-LABEL: func.func @red_casts
// CHECK-DAG:     %[[I64_0:.*]] = arith.constant 0 : i64
// CHECK-DAG:     %[[F_0:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG:     %[[F_1:.*]] = arith.constant 1.000000e+00 : f32
// CHECK:         arith.truncf %{{.*}} : f32 to f16
// CHECK:         arith.extf %{{.*}} : f16 to f64
// CHECK:         arith.fptosi %{{.*}} : f32 to i32
// CHECK:         arith.sitofp %{{.*}} : i32 to f32
// CHECK:         arith.trunci %{{.*}} : i64 to i32
// CHECK:         arith.extsi %{{.*}} : i32 to i64
// CHECK:         %[[P:.*]] = memref.load %{{.*}} : memref<4xi1>
// CHECK-NEXT:    arith.select %[[P]], %[[F_1]], %[[F_0]] : f32
// CHECK:         arith.extui %{{.*}} : i1 to i64
// CHECK:         %[[X:.*]] = memref.load %{{.*}} : memref<4xf32>
// CHECK-NEXT:    arith.cmpf une, %[[X]], %[[F_0]] : f32
// CHECK:         %[[L:.*]] = memref.load %{{.*}} : memref<4xi64>
// CHECK-NEXT:    arith.cmpi ne, %[[L]], %[[I64_0]] : i64
func.func @casts(%a: tensor<4xf32>, %h: tensor<4xf16>, %i: tensor<4xi32>, %l: tensor<4xi64>, %p: tensor<4xi1>) -> (tensor<4xf16>, tensor<4xf64>, tensor<4xi32>, tensor<4xf32>, tensor<4xi32>, tensor<4xi64>, tensor<4xf32>, tensor<4xi64>, tensor<4xi1>, tensor<4xi1>) {
  %0 = red.cast %a : tensor<4xf32> -> tensor<4xf16>
  %1 = red.cast %h : tensor<4xf16> -> tensor<4xf64>
  %2 = red.cast %a : tensor<4xf32> -> tensor<4xi32>
  %3 = red.cast %i : tensor<4xi32> -> tensor<4xf32>
  %4 = red.cast %l : tensor<4xi64> -> tensor<4xi32>
  %5 = red.cast %i : tensor<4xi32> -> tensor<4xi64>
  %6 = red.cast %p : tensor<4xi1> -> tensor<4xf32>
  %7 = red.cast %p : tensor<4xi1> -> tensor<4xi64>
  %8 = red.cast %a : tensor<4xf32> -> tensor<4xi1>
  %9 = red.cast %l : tensor<4xi64> -> tensor<4xi1>
  func.return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9 : tensor<4xf16>, tensor<4xf64>, tensor<4xi32>, tensor<4xf32>, tensor<4xi32>, tensor<4xi64>, tensor<4xf32>, tensor<4xi64>, tensor<4xi1>, tensor<4xi1>
}

// -----

// A cast to the same type is the value itself.
// CHECK-LABEL: func.func @red_no_cast_same_type
// CHECK-SAME:    (%[[A:.*]]: memref<4xf32>, %[[RES:.*]]: memref<4xf32>) {
// CHECK:           %[[X:.*]] = memref.load %[[A]][%[[I:.*]]] : memref<4xf32>
// CHECK-NEXT:      memref.store %[[X]], %[[RES]][%[[I]]] : memref<4xf32>
func.func @no_cast_same_type(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = red.cast %a : tensor<4xf32> -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}

// -----

// iota is the index along its dimension, converted to the element type.
// CHECK-LABEL: func.func @red_iota
// CHECK-SAME:    (%[[RES:.*]]: memref<3x4xf32>) {
// CHECK:         scf.for %[[I:.*]] = {{.*}} {
// CHECK-NEXT:      scf.for %[[J:.*]] = {{.*}} {
// CHECK-NEXT:        %[[N:.*]] = arith.index_cast %[[J]] : index to i64
// CHECK-NEXT:        %[[F:.*]] = arith.sitofp %[[N]] : i64 to f32
// CHECK-NEXT:        memref.store %[[F]], %[[RES]][%[[I]], %[[J]]] : memref<3x4xf32>
func.func @iota() -> tensor<3x4xf32> {
  %r = red.iota dim = 1 : tensor<3x4xf32>
  func.return %r : tensor<3x4xf32>
}
