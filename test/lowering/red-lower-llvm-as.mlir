// REQUIRES: llvm-as-16
// The emitted LLVM IR is accepted by LLVM 16's assembler (DESIGN.md §4), the examples included.
// RUN: red-translate --mlir-to-llvmir %s | llvm-as-16 -o /dev/null
// RUN: red-opt %s -p red-lower -t llvm | llvm-as-16 -o /dev/null
// RUN: red-translate --mlir-to-llvmir %examples/gpt_decoder.mlir | llvm-as-16 -o /dev/null
// RUN: red-opt %examples/seed_chain.mlir -p red-pipeline,red-lower -t llvm | llvm-as-16 -o /dev/null
// RUN: red-translate --mlir-to-llvmir %s | llvm-as-16 | llvm-dis-16 | filecheck %s
// CHECK: define void @red_main(ptr {{.*}}, ptr {{.*}}, ptr {{.*}}, ptr {{.*}}, ptr {{.*}})
// CHECK: define void @red_memo_reset()

func.func @main(%x: tensor<2x4xf32>, %w: tensor<5x4xf32> {red.invariant}, %ids: tensor<3xi64>) -> (tensor<2x5xf32>, tensor<3x4xf32>, tensor<2x4xi1>) {
  %wt = red.memo(%w) : (tensor<5x4xf32>) -> tensor<4x5xf32> {
  ^bb0(%a: tensor<5x4xf32>):
    %t = red.transpose %a [1, 0] : tensor<5x4xf32> -> tensor<4x5xf32>
    red.yield %t : tensor<4x5xf32>
  }
  %y = red.matmul %x, %wt : tensor<2x4xf32>, tensor<4x5xf32> -> tensor<2x5xf32>
  %g = red.gather %w, %ids axis = 0 : tensor<5x4xf32>, tensor<3xi64> -> tensor<3x4xf32>
  %e = red.erf %g : tensor<3x4xf32>
  %c = red.constant dense<0.5> : tensor<f32>
  %m = red.gt %x, %c : tensor<2x4xf32>, tensor<f32> -> tensor<2x4xi1>
  func.return %y, %e, %m : tensor<2x5xf32>, tensor<3x4xf32>, tensor<2x4xi1>
}
