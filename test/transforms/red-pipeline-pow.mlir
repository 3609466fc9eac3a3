// red-pipeline writes GELU's cube as products (exact up to rounding, like its matmul
// reassociation); under strict-fp the pow stays. --verify-equivalence checks both against
// the input within the pipeline's tolerances.
// RUN: red-opt %s -p red-pipeline --verify-equivalence | filecheck %s
// RUN: red-opt %s -p 'red-pipeline{strict-fp=true}' --verify-equivalence | filecheck %s --check-prefix=STRICT

// CHECK-LABEL: func.func @gelu_cube
// CHECK-SAME:    (%[[X:.*]]: tensor<4x8xf32>)
// CHECK:         %[[SQ:.*]] = red.mul %[[X]], %[[X]]
// CHECK:         %[[CU:.*]] = red.mul %[[X]], %[[SQ]]
// CHECK-NOT:     red.pow
// CHECK:         red.tanh
// STRICT-LABEL: func.func @gelu_cube
// STRICT:         red.pow
// STRICT-NOT:     red.mul %{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<4x8xf32>
// STRICT:         red.tanh
func.func @gelu_cube(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %three = red.constant dense<3.0> : tensor<f32>
  %k = red.constant dense<4.471500e-02> : tensor<f32>
  %cube = red.pow %x, %three : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %scaled = red.mul %cube, %k : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %inner = red.add %x, %scaled : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %t = red.tanh %inner : tensor<4x8xf32>
  func.return %t : tensor<4x8xf32>
}
