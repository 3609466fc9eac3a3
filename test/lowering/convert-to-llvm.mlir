// red-lower's steps run one by one: convert-red-to-loops, convert-scf-to-cf, then
// convert-to-llvm, which leaves only llvm.func and llvm.mlir.global.
// RUN: red-opt %s -p convert-red-to-loops,convert-scf-to-cf,convert-to-llvm | filecheck %s
// RUN: red-opt %s -p convert-red-to-loops,convert-scf-to-cf,convert-to-llvm | red-opt -t llvm | filecheck %s --check-prefix=IR

// An access is one getelementptr inbounds at the row-major index (no ptrtoint/inttoptr),
// buffers come from malloc/free, exp is polynomial arithmetic (vectorizable), tanh too.
// CHECK-LABEL: llvm.func @red_main
// CHECK-NOT:     func.func
// CHECK-NOT:     memref.
// CHECK-NOT:     scf.
// CHECK-NOT:     llvm.inttoptr
// CHECK:         llvm.getelementptr inbounds
// CHECK-NOT:     llvm.call @expf
// CHECK:         llvm.return
// CHECK-LABEL: llvm.func @red_memo_reset
// CHECK-DAG:   llvm.func @malloc
// CHECK-DAG:   llvm.func @free
// IR: define void @"red_main"(ptr %{{.*}}, ptr %{{.*}}, ptr %{{.*}})
// IR: define void @"red_memo_reset"()
func.func @main(%a: tensor<4x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %s = red.add %a, %b : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  %e = red.exp %s : tensor<4x8xf32>
  %t = red.transpose %e [1, 0] : tensor<4x8xf32> -> tensor<8x4xf32>
  %u = red.transpose %t [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
  %r = red.tanh %u : tensor<4x8xf32>
  func.return %r : tensor<4x8xf32>
}
