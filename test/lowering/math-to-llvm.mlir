// RUN: red-opt %s -p convert-to-llvm --split-input-file | filecheck %s

// exp of f32 is Cephes' polynomial in llvm arithmetic, not a call (so loops vectorize): the
// argument clamped to [-87.34, 88.72], rounded with the 1.5·2^23 trick, 2^n built in the
// exponent bits in two halves (shl by 23), and the result 0 below the range and +inf above.
// Its constants are made once, at the top of the function.
// CHECK-LABEL: llvm.func @exp_f32
// CHECK-SAME:    (%[[X:.*]]: f32) -> f32
// CHECK-NEXT:    %[[LO:.*]] = llvm.mlir.constant(-87.3365479 : f32) : f32
// CHECK-NEXT:    %[[HI:.*]] = llvm.mlir.constant(88.7228394 : f32) : f32
// CHECK-NEXT:    %[[MAGIC:.*]] = llvm.mlir.constant(0x4B400000 : f32) : f32
// CHECK-NEXT:    %[[LOG2E:.*]] = llvm.mlir.constant(1.44269502 : f32) : f32
// CHECK-NEXT:    %[[BIAS:.*]] = llvm.mlir.constant(1262485504 : i32) : i32
// CHECK:         %[[ONE_I:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK-NEXT:    %[[E127:.*]] = llvm.mlir.constant(127 : i32) : i32
// CHECK-NEXT:    %[[E23:.*]] = llvm.mlir.constant(23 : i32) : i32
// CHECK-NEXT:    %[[ZERO:.*]] = llvm.mlir.constant(0.000000e+00 : f32) : f32
// CHECK-NEXT:    %[[INF:.*]] = llvm.mlir.constant(0x7f800000 : f32) : f32
// CHECK-NEXT:    %[[BELOW:.*]] = llvm.fcmp "olt" %[[X]], %[[LO]] : f32
// CHECK-NEXT:    %[[XL:.*]] = llvm.select %[[BELOW]], %[[LO]], %[[X]] : i1, f32
// CHECK-NEXT:    %[[ABOVE:.*]] = llvm.fcmp "ogt" %[[XL]], %[[HI]] : f32
// CHECK-NEXT:    %[[XC:.*]] = llvm.select %[[ABOVE]], %[[HI]], %[[XL]] : i1, f32
// CHECK-NEXT:    %[[T0:.*]] = llvm.fmul %[[XC]], %[[LOG2E]] : f32
// CHECK-NEXT:    %[[T:.*]] = llvm.fadd %[[T0]], %[[MAGIC]] : f32
// CHECK-NEXT:    %[[NF:.*]] = llvm.fsub %[[T]], %[[MAGIC]] : f32
// CHECK-NEXT:    %[[TB:.*]] = llvm.bitcast %[[T]] : f32 to i32
// CHECK-NEXT:    %[[N:.*]] = llvm.sub %[[TB]], %[[BIAS]] : i32
// CHECK-NOT:     llvm.call
// CHECK:         %[[HALF:.*]] = llvm.ashr %[[N]], %[[ONE_I]] : i32
// CHECK-NEXT:    %[[REST:.*]] = llvm.sub %[[N]], %[[HALF]] : i32
// CHECK-NEXT:    %[[HB:.*]] = llvm.add %[[HALF]], %[[E127]] : i32
// CHECK-NEXT:    %[[HS:.*]] = llvm.shl %[[HB]], %[[E23]] : i32
// CHECK-NEXT:    %[[P1:.*]] = llvm.bitcast %[[HS]] : i32 to f32
// CHECK-NEXT:    %[[Y1:.*]] = llvm.fmul %{{.*}}, %[[P1]] : f32
// CHECK-NEXT:    %[[RB:.*]] = llvm.add %[[REST]], %[[E127]] : i32
// CHECK-NEXT:    %[[RS:.*]] = llvm.shl %[[RB]], %[[E23]] : i32
// CHECK-NEXT:    %[[P2:.*]] = llvm.bitcast %[[RS]] : i32 to f32
// CHECK-NEXT:    %[[Y:.*]] = llvm.fmul %[[Y1]], %[[P2]] : f32
// CHECK-NEXT:    %[[UNDER:.*]] = llvm.fcmp "olt" %[[X]], %[[LO]] : f32
// CHECK-NEXT:    %[[R0:.*]] = llvm.select %[[UNDER]], %[[ZERO]], %[[Y]] : i1, f32
// CHECK-NEXT:    %[[OVER:.*]] = llvm.fcmp "ogt" %[[X]], %[[HI]] : f32
// CHECK-NEXT:    %[[R:.*]] = llvm.select %[[OVER]], %[[INF]], %[[R0]] : i1, f32
// CHECK-NEXT:    llvm.return %[[R]] : f32
func.func @exp_f32(%x: f32) -> f32 {
  %r = math.exp %x : f32
  func.return %r : f32
}

// -----

// f16 computes the same polynomial in f32.
// CHECK-LABEL: llvm.func @exp_f16
// CHECK-SAME:    (%[[X:.*]]: f16) -> f16
// CHECK:         %[[W:.*]] = llvm.fpext %[[X]] : f16 to f32
// CHECK:         llvm.fcmp "olt" %[[W]], %{{.*}} : f32
// CHECK:         %[[OVER:.*]] = llvm.fcmp "ogt" %[[W]], %{{.*}} : f32
// CHECK-NEXT:    %[[R:.*]] = llvm.select %[[OVER]], %{{.*}}, %{{.*}} : i1, f32
// CHECK-NEXT:    %[[N:.*]] = llvm.fptrunc %[[R]] : f32 to f16
// CHECK-NEXT:    llvm.return %[[N]] : f16
func.func @exp_f16(%x: f16) -> f16 {
  %r = math.exp %x : f16
  func.return %r : f16
}

// -----

// exp of f64, and of vectors, is LLVM's intrinsic, named with its type.
// CHECK-LABEL: llvm.func @exp_intrinsic
// CHECK-SAME:    (%[[X:.*]]: f64, %[[V:.*]]: vector<8xf32>) -> f64
// CHECK-NEXT:    %[[E:.*]] = llvm.call_intrinsic "llvm.exp.f64"(%[[X]]) : (f64) -> f64
// CHECK-NEXT:    %[[EV:.*]] = llvm.call_intrinsic "llvm.exp.v8f32"(%[[V]]) : (vector<8xf32>) -> vector<8xf32>
// CHECK-NEXT:    llvm.return %[[E]] : f64
func.func @exp_intrinsic(%x: f64, %v: vector<8xf32>) -> f64 {
  %e = math.exp %x : f64
  %ev = math.exp %v : vector<8xf32>
  func.return %e : f64
}

// -----

// tanh of f32 is Eigen's rational function on x clamped to [-7.905, 7.905]: x·p(x²)/q(x²).
// CHECK-LABEL: llvm.func @tanh_f32
// CHECK-SAME:    (%[[X:.*]]: f32) -> f32
// CHECK-NEXT:    %[[LO:.*]] = llvm.mlir.constant(-7.90531111 : f32) : f32
// CHECK-NEXT:    %[[HI:.*]] = llvm.mlir.constant(7.90531111 : f32) : f32
// CHECK-NOT:     llvm.call
// CHECK:         %[[BELOW:.*]] = llvm.fcmp "olt" %[[X]], %[[LO]] : f32
// CHECK-NEXT:    %[[XL:.*]] = llvm.select %[[BELOW]], %[[LO]], %[[X]] : i1, f32
// CHECK-NEXT:    %[[ABOVE:.*]] = llvm.fcmp "ogt" %[[XL]], %[[HI]] : f32
// CHECK-NEXT:    %[[XC:.*]] = llvm.select %[[ABOVE]], %[[HI]], %[[XL]] : i1, f32
// CHECK-NEXT:    %[[X2:.*]] = llvm.fmul %[[XC]], %[[XC]] : f32
// CHECK:         %[[P:.*]] = llvm.fmul %{{.*}}, %[[XC]] : f32
// CHECK-NOT:     llvm.call
// CHECK:         %[[R:.*]] = llvm.fdiv %[[P]], %{{.*}} : f32
// CHECK-NEXT:    llvm.return %[[R]] : f32
func.func @tanh_f32(%x: f32) -> f32 {
  %r = math.tanh %x : f32
  func.return %r : f32
}

// -----

// erf of f32: the same form on x clamped to [-4, 4].
// CHECK-LABEL: llvm.func @erf_f32
// CHECK-SAME:    (%[[X:.*]]: f32) -> f32
// CHECK-NEXT:    %[[LO:.*]] = llvm.mlir.constant(-4.000000e+00 : f32) : f32
// CHECK-NEXT:    %[[HI:.*]] = llvm.mlir.constant(4.000000e+00 : f32) : f32
// CHECK-NOT:     llvm.call
// CHECK:         %[[BELOW:.*]] = llvm.fcmp "olt" %[[X]], %[[LO]] : f32
// CHECK:         %[[R:.*]] = llvm.fdiv %{{.*}}, %{{.*}} : f32
// CHECK-NEXT:    llvm.return %[[R]] : f32
func.func @erf_f32(%x: f32) -> f32 {
  %r = math.erf %x : f32
  func.return %r : f32
}

// -----

// tanh and erf of f64 call libm, declared once at the end of the module.
// CHECK-LABEL: llvm.func @libm
// CHECK-SAME:    (%[[X:.*]]: f64) -> f64
// CHECK-NEXT:    %[[T:.*]] = llvm.call @tanh(%[[X]]) : (f64) -> f64
// CHECK-NEXT:    %[[E:.*]] = llvm.call @erf(%[[T]]) : (f64) -> f64
// CHECK-NEXT:    %[[T2:.*]] = llvm.call @tanh(%[[E]]) : (f64) -> f64
// CHECK-NEXT:    llvm.return %[[T2]] : f64
// CHECK:       llvm.func @tanh(f64) -> f64
// CHECK-NEXT:  llvm.func @erf(f64) -> f64
// CHECK-NOT:   llvm.func @tanh
func.func @libm(%x: f64) -> f64 {
  %t = math.tanh %x : f64
  %e = math.erf %t : f64
  %t2 = math.tanh %e : f64
  func.return %t2 : f64
}

// -----

// log, sqrt, sin, cos, absf and powf are LLVM intrinsics named with their type, scalar or
// vector (xDSL's llvm.intr ops would be declared unmangled and clash across types).
// CHECK-LABEL: llvm.func @intrinsics
// CHECK-SAME:    (%[[X:.*]]: f32, %[[D:.*]]: f64, %[[V:.*]]: vector<4xf32>) -> f32
// CHECK-NEXT:    %[[LOG:.*]] = llvm.call_intrinsic "llvm.log.f32"(%[[X]]) : (f32) -> f32
// CHECK-NEXT:    %[[SQRT:.*]] = llvm.call_intrinsic "llvm.sqrt.f64"(%[[D]]) : (f64) -> f64
// CHECK-NEXT:    %[[VSQRT:.*]] = llvm.call_intrinsic "llvm.sqrt.v4f32"(%[[V]]) : (vector<4xf32>) -> vector<4xf32>
// CHECK-NEXT:    %[[SIN:.*]] = llvm.call_intrinsic "llvm.sin.f32"(%[[LOG]]) : (f32) -> f32
// CHECK-NEXT:    %[[COS:.*]] = llvm.call_intrinsic "llvm.cos.f32"(%[[SIN]]) : (f32) -> f32
// CHECK-NEXT:    %[[ABS:.*]] = llvm.call_intrinsic "llvm.fabs.f32"(%[[COS]]) : (f32) -> f32
// CHECK-NEXT:    %[[POW:.*]] = llvm.call_intrinsic "llvm.pow.f32"(%[[ABS]], %[[X]]) : (f32, f32) -> f32
// CHECK-NEXT:    llvm.return %[[POW]] : f32
func.func @intrinsics(%x: f32, %d: f64, %v: vector<4xf32>) -> f32 {
  %log = math.log %x : f32
  %sqrt = math.sqrt %d : f64
  %vsqrt = math.sqrt %v : vector<4xf32>
  %sin = math.sin %log : f32
  %cos = math.cos %sin : f32
  %abs = math.absf %cos : f32
  %pow = math.powf %abs, %x : f32
  func.return %pow : f32
}
