// RUN: red-opt %s -p canonicalize --split-input-file | filecheck %s

// An elementwise unary op of a concat whose inputs repeat is computed once per distinct
// input, then concatenated (Llama's rotary embedding: cos and sin of cat(freqs, freqs)).

// CHECK-LABEL: func.func @rotary
// CHECK-SAME:    (%[[F:.*]]: tensor<4x8xf32>)
// CHECK:         %[[C:.*]] = red.cos %[[F]] : tensor<4x8xf32>
// CHECK:         %[[CC:.*]] = red.concat %[[C]], %[[C]] axis = 1
// CHECK:         %[[S:.*]] = red.sin %[[F]] : tensor<4x8xf32>
// CHECK:         %[[SS:.*]] = red.concat %[[S]], %[[S]] axis = 1
// CHECK:         func.return %[[CC]], %[[SS]]
func.func @rotary(%f: tensor<4x8xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %e = red.concat %f, %f axis = 1 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x16xf32>
  %c = red.cos %e : tensor<4x16xf32>
  %s = red.sin %e : tensor<4x16xf32>
  func.return %c, %s : tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// CHECK-LABEL: func.func @three_inputs_one_repeated
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf32>, %[[Y:.*]]: tensor<1x3xf32>)
// CHECK-DAG:     %[[EX:.*]] = red.exp %[[X]] : tensor<2x3xf32>
// CHECK-DAG:     %[[EY:.*]] = red.exp %[[Y]] : tensor<1x3xf32>
// CHECK:         %[[R:.*]] = red.concat %[[EX]], %[[EX]], %[[EY]] axis = 0
// CHECK:         func.return %[[R]]
func.func @three_inputs_one_repeated(%x: tensor<2x3xf32>, %y: tensor<1x3xf32>) -> tensor<5x3xf32> {
  %e = red.concat %x, %x, %y axis = 0 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<1x3xf32> -> tensor<5x3xf32>
  %r = red.exp %e : tensor<5x3xf32>
  func.return %r : tensor<5x3xf32>
}

// -----

// Symbolic rows: the rewrite keeps the `?` dim.
// CHECK-LABEL: func.func @symbolic_rows
// CHECK:         %[[C:.*]] = red.cos %{{.*}} : tensor<?x4xf32>
// CHECK:         red.concat %[[C]], %[[C]] axis = 1 : tensor<?x4xf32>, tensor<?x4xf32> -> tensor<?x8xf32>
func.func @symbolic_rows(%f: tensor<?x4xf32> {red.dims = ["seq", ""]}) -> tensor<?x8xf32> {
  %e = red.concat %f, %f axis = 1 : tensor<?x4xf32>, tensor<?x4xf32> -> tensor<?x8xf32>
  %c = red.cos %e : tensor<?x8xf32>
  func.return %c : tensor<?x8xf32>
}

// -----

// A binary op of the concat is left alone.
// CHECK-LABEL: func.func @no_binary_op
// CHECK:         %[[E:.*]] = red.concat
// CHECK:         red.mul %[[E]], %[[E]] : tensor<6xf32>
func.func @no_binary_op(%x: tensor<3xf32>) -> tensor<6xf32> {
  %e = red.concat %x, %x axis = 0 : tensor<3xf32>, tensor<3xf32> -> tensor<6xf32>
  %m = red.mul %e, %e : tensor<6xf32>, tensor<6xf32> -> tensor<6xf32>
  func.return %m : tensor<6xf32>
}

// -----

// Distinct inputs: nothing is computed twice, nothing to share.
// CHECK-LABEL: func.func @no_distinct_inputs
// CHECK:         %[[E:.*]] = red.concat
// CHECK:         red.exp %[[E]] : tensor<6xf32>
func.func @no_distinct_inputs(%x: tensor<3xf32>, %y: tensor<3xf32>) -> tensor<6xf32> {
  %e = red.concat %x, %y axis = 0 : tensor<3xf32>, tensor<3xf32> -> tensor<6xf32>
  %r = red.exp %e : tensor<6xf32>
  func.return %r : tensor<6xf32>
}

// -----

// The concat has another use: rewriting would add a concat and keep the old one.
// CHECK-LABEL: func.func @no_concat_with_another_use
// CHECK:         %[[E:.*]] = red.concat
// CHECK:         %[[R:.*]] = red.exp %[[E]] : tensor<6xf32>
// CHECK:         func.return %[[R]], %[[E]]
func.func @no_concat_with_another_use(%x: tensor<3xf32>) -> (tensor<6xf32>, tensor<6xf32>) {
  %e = red.concat %x, %x axis = 0 : tensor<3xf32>, tensor<3xf32> -> tensor<6xf32>
  %r = red.exp %e : tensor<6xf32>
  func.return %r, %e : tensor<6xf32>, tensor<6xf32>
}
