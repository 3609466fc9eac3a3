// RUN: red-opt %s -p red-lower | filecheck %s
// RUN: red-opt %s -p red-lower -t llvm | filecheck %s --check-prefix=LLVM
// RUN: red-translate --mlir-to-llvmir %s | filecheck %s --check-prefix=LLVM
// RUN: red-opt %s -p red-lower | red-translate --mlir-to-llvmir | filecheck %s --check-prefix=LLVM
// RUN: red-opt %S/Inputs/elementwise.mlir -p convert-red-to-loops | red-opt -p red-lower | filecheck %s --check-prefix=LOOPS
// RUN: red-opt %S/Inputs/dynamic-shape.mlir -p red-lower 2>&1 | filecheck %s --check-prefix=DYNAMIC
// RUN: red-translate --mlir-to-llvmir %S/Inputs/dynamic-shape.mlir 2>&1 | filecheck %s --check-prefix=DYNAMIC-LL

// red-lower ends in the llvm dialect: globals for the memo and the constant, the kernel
// library's sgemm declared (red-translate's LLVM IR defines it), @red_main and
// @red_memo_reset external, malloc and free declared; no func, memref, scf, cf, arith, math
// or vector op is left.
// CHECK:       builtin.module {
// CHECK-DAG:     llvm.mlir.global internal @__red_memo_0_result_0() {{.*}} : !llvm.array<20 x f32>
// CHECK-DAG:     llvm.mlir.global internal @__red_memo_0_valid() {{.*}} : !llvm.array<1 x i8>
// CHECK-DAG:     llvm.mlir.global internal constant @__red_constant_0(dense<[1.000000e+00, -2.000000e+00, 5.000000e-01, 4.000000e+00]> : tensor<4xf32>) {{.*}} : !llvm.array<4 x f32>
// CHECK-DAG:     llvm.func @red_sgemm(i64, i64, i64, !llvm.ptr, i64, i64, !llvm.ptr, i64, i64, !llvm.ptr, i64, i64, i32, i32)
// CHECK:         llvm.func @red_main(%[[X:.*]]: !llvm.ptr, %[[W:.*]]: !llvm.ptr, %[[RES0:.*]]: !llvm.ptr, %[[RES1:.*]]: !llvm.ptr) {
// CHECK:           llvm.call @red_sgemm(
// CHECK:           %[[BUF:.*]] = llvm.call @malloc(
// CHECK:           llvm.call @free(%[[BUF]])
// CHECK:         llvm.func @red_memo_reset() {
// CHECK-DAG:     llvm.func @malloc(i64) -> !llvm.ptr
// CHECK-DAG:     llvm.func @free(!llvm.ptr)
// CHECK-NOT:     {{func\.|memref\.|scf\.|cf\.|arith\.|math\.|vector\.}}

// The LLVM IR: the C ABI `void red_main(float *x, float *w, float *res0, float *res1)`.
// LLVM:       @{{"?}}__red_memo_0_valid{{"?}} = internal global [1 x i8] zeroinitializer
// LLVM:       define void @{{"?}}red_main{{"?}}(ptr %{{.*}}, ptr %{{.*}}, ptr %{{.*}}, ptr %{{.*}})
// LLVM:       call {{(ccc )?}}void @{{"?}}red_sgemm{{"?}}(i64
// LLVM:       [[BUF:%.*]] = call {{(ccc )?}}ptr @{{"?}}malloc{{"?}}(i64 32)
// LLVM:       call {{(ccc )?}}void @{{"?}}free{{"?}}(ptr [[BUF]])
// LLVM:       define void @{{"?}}red_memo_reset{{"?}}()
// LLVM-DAG:   declare ptr @{{"?}}malloc{{"?}}(i64
// LLVM-DAG:   declare void @{{"?}}free{{"?}}(ptr

// IR at the loop level goes through the rest of red-lower (and at the llvm level, red-translate).
// LOOPS:     llvm.func @red_main(
// LOOPS-NOT: {{func\.|memref\.|scf\.}}

// A dynamic shape takes the sized ABI (lowering/loops/sizes.py): each `?` dim of an argument
// as an i64 after its pointer, an i32 status returned, and the result-shape function.
// DYNAMIC:      llvm.func @red_main_result_shape(%in_dims: !llvm.ptr, %out_dims: !llvm.ptr) -> i32
// DYNAMIC:      llvm.func @red_main(%a: !llvm.ptr, %a_d0: i64, %res0: !llvm.ptr) -> i32
// DYNAMIC-NOT:  {{func\.|memref\.|scf\.}}
// DYNAMIC-LL:   define i32 @"red_main_result_shape"(ptr %{{.*}}, ptr %{{.*}})
// DYNAMIC-LL:   define i32 @"red_main"(ptr %{{.*}}, i64 %{{.*}}, ptr %{{.*}})

func.func @main(%x: tensor<2x4xf32>, %w: tensor<5x4xf32> {red.invariant}) -> (tensor<2x5xf32>, tensor<2x4xf32>) {
  %wt = red.memo(%w) : (tensor<5x4xf32>) -> tensor<4x5xf32> {
  ^bb0(%a: tensor<5x4xf32>):
    %t = red.transpose %a [1, 0] : tensor<5x4xf32> -> tensor<4x5xf32>
    red.yield %t : tensor<4x5xf32>
  }
  %y = red.matmul %x, %wt : tensor<2x4xf32>, tensor<4x5xf32> -> tensor<2x5xf32>
  %c = red.constant dense<[1.0, -2.0, 0.5, 4.0]> : tensor<4xf32>
  %e = red.tanh %x : tensor<2x4xf32>
  %s = red.add %e, %e : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  %r = red.mul %s, %c : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
  func.return %y, %r : tensor<2x5xf32>, tensor<2x4xf32>
}
