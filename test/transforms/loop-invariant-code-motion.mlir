// RUN: red-opt %s -p loop-invariant-code-motion --split-input-file | filecheck %s

// A weight's transpose does not change between iterations: it moves in front of the loop;
// the matmul reads the carried value and stays.
// CHECK-LABEL: func.func @hoist_weight_transpose
// CHECK-SAME:    (%[[X:.*]]: tensor<4x4xf32>, %[[W:.*]]: tensor<4x4xf32>)
// CHECK:         %[[WT:.*]] = red.transpose %[[W]] [1, 0] : tensor<4x4xf32> -> tensor<4x4xf32>
// CHECK-NEXT:    %[[R:.*]] = scf.for %{{.*}} iter_args(%[[ACC:.*]] = %[[X]]) -> (tensor<4x4xf32>) {
// CHECK-NEXT:      %[[M:.*]] = red.matmul %[[ACC]], %[[WT]] : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
// CHECK-NEXT:      scf.yield %[[M]] : tensor<4x4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %[[R]]
func.func @hoist_weight_transpose(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %r = scf.for %i = %c0 to %c3 step %c1 iter_args(%acc = %x) -> (tensor<4x4xf32>) {
    %wt = red.transpose %w [1, 0] : tensor<4x4xf32> -> tensor<4x4xf32>
    %m = red.matmul %acc, %wt : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
    scf.yield %m : tensor<4x4xf32>
  }
  func.return %r : tensor<4x4xf32>
}

// -----

// A chain of invariant ops (iota, compare) moves out whole, in order.
// CHECK-LABEL: func.func @hoist_mask_chain
// CHECK:         %[[ROWS:.*]] = red.iota dim = 0 : tensor<4x4xi64>
// CHECK-NEXT:    %[[COLS:.*]] = red.iota dim = 1 : tensor<4x4xi64>
// CHECK-NEXT:    %[[MASK:.*]] = red.le %[[COLS]], %[[ROWS]]
// CHECK-NEXT:    scf.for
// CHECK-NEXT:      red.select %[[MASK]]
func.func @hoist_mask_chain(%x: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %fill = red.constant dense<0.0> : tensor<f32>
  %r = scf.for %i = %c0 to %c3 step %c1 iter_args(%acc = %x) -> (tensor<4x4xf32>) {
    %rows = red.iota dim = 0 : tensor<4x4xi64>
    %cols = red.iota dim = 1 : tensor<4x4xi64>
    %mask = red.le %cols, %rows : tensor<4x4xi64>, tensor<4x4xi64> -> tensor<4x4xi1>
    %s = red.select %mask, %acc, %fill : tensor<4x4xi1>, tensor<4x4xf32>, tensor<f32> -> tensor<4x4xf32>
    scf.yield %s : tensor<4x4xf32>
  }
  func.return %r : tensor<4x4xf32>
}

// -----

// Ops that read the induction variable or a carried value stay in the loop.
// CHECK-LABEL: func.func @no_hoist_of_variant_ops
// CHECK:         scf.for %[[I:.*]] = %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (tensor<1x4xf32>) {
// CHECK-NEXT:      %[[ROW:.*]] = red.dynamic_slice %{{.*}}[%[[I]], %{{.*}}] sizes = [1, 4]
// CHECK-NEXT:      %[[SUM:.*]] = red.add %[[ACC]], %[[ROW]]
// CHECK-NEXT:      scf.yield %[[SUM]]
func.func @no_hoist_of_variant_ops(%x: tensor<4x4xf32>, %init: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %init) -> (tensor<1x4xf32>) {
    %row = red.dynamic_slice %x[%i, %c0] sizes = [1, 4] : (tensor<4x4xf32>, index, index) -> tensor<1x4xf32>
    %sum = red.add %acc, %row : tensor<1x4xf32>, tensor<1x4xf32> -> tensor<1x4xf32>
    scf.yield %sum : tensor<1x4xf32>
  }
  func.return %r : tensor<1x4xf32>
}
