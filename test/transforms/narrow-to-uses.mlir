// RUN: red-opt %s -p narrow-to-uses,canonicalize,cse,dce --split-input-file | filecheck %s

// Only the last row is returned: the slice moves to the input and the whole row-wise chain
// (elementwise with broadcasting, layer_norm over the last axis, matmul rows, bias add,
// softmax over the last axis) runs on one row. A broadcast row operand (%g, %b) stays whole;
// a per-row operand (%s) is sliced too.
// CHECK-LABEL: func.func @last_row_of_rowwise_chain
// CHECK-SAME:    (%[[X:.*]]: tensor<8x16xf32>, %[[S:.*]]: tensor<8x1xf32>, %[[G:.*]]: tensor<1x16xf32>, %[[W:.*]]: tensor<16x4xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK-DAG:     %[[XR:.*]] = red.slice %[[X]] [7, 0] [8, 16] [1, 1] : tensor<8x16xf32> -> tensor<1x16xf32>
// CHECK-DAG:     %[[SR:.*]] = red.slice %[[S]] [7, 0] [8, 1] [1, 1] : tensor<8x1xf32> -> tensor<1x1xf32>
// CHECK-DAG:     %[[E:.*]] = red.tanh %[[XR]] : tensor<1x16xf32>
// CHECK:         %[[M:.*]] = red.mul %[[E]], %[[SR]] : tensor<1x16xf32>, tensor<1x1xf32> -> tensor<1x16xf32>
// CHECK-NEXT:    %[[N:.*]] = red.layer_norm %[[M]] axis = 1 eps = 1.000000e-05 : tensor<1x16xf32>
// CHECK-NEXT:    %[[GN:.*]] = red.mul %{{.*}}, %{{.*}} : tensor<1x16xf32>, tensor<1x16xf32> -> tensor<1x16xf32>
// CHECK-NEXT:    %[[H:.*]] = red.matmul %[[GN]], %[[W]] : tensor<1x16xf32>, tensor<16x4xf32> -> tensor<1x4xf32>
// CHECK-NEXT:    %[[A:.*]] = red.add %[[B]], %[[H]] : tensor<4xf32>, tensor<1x4xf32> -> tensor<1x4xf32>
// CHECK-NEXT:    %[[P:.*]] = red.softmax %[[A]] axis = 1 : tensor<1x4xf32>
// CHECK-NOT:     red.slice
// CHECK:         func.return %[[P]] : tensor<1x4xf32>
func.func @last_row_of_rowwise_chain(%x: tensor<8x16xf32>, %s: tensor<8x1xf32>, %g: tensor<1x16xf32>, %w: tensor<16x4xf32>, %b: tensor<4xf32>) -> tensor<1x4xf32> {
  %e = red.tanh %x : tensor<8x16xf32>
  %m = red.mul %e, %s : tensor<8x16xf32>, tensor<8x1xf32> -> tensor<8x16xf32>
  %n = red.layer_norm %m axis = 1 eps = 1.0e-05 : tensor<8x16xf32>
  %gn = red.mul %n, %g : tensor<8x16xf32>, tensor<1x16xf32> -> tensor<8x16xf32>
  %h = red.matmul %gn, %w : tensor<8x16xf32>, tensor<16x4xf32> -> tensor<8x4xf32>
  %a = red.add %h, %b : tensor<8x4xf32>, tensor<4xf32> -> tensor<8x4xf32>
  %p = red.softmax %a axis = 1 : tensor<8x4xf32>
  %r = red.slice %p [7, 0] [8, 4] [1, 1] : tensor<8x4xf32> -> tensor<1x4xf32>
  func.return %r : tensor<1x4xf32>
}

// -----

// Row 7 of (Xᵀ)·W is column 7 of X: the slice crosses the transpose onto the other axis.
// CHECK-LABEL: func.func @last_row_through_transpose
// CHECK-SAME:    (%[[X:.*]]: tensor<16x8xf32>, %[[W:.*]]: tensor<16x4xf32>)
// CHECK-NEXT:    %[[C:.*]] = red.slice %[[X]] [0, 7] [16, 8] [1, 1] : tensor<16x8xf32> -> tensor<16x1xf32>
// CHECK-NEXT:    %[[T:.*]] = red.transpose %[[C]] [1, 0] : tensor<16x1xf32> -> tensor<1x16xf32>
// CHECK-NEXT:    %[[R:.*]] = red.matmul %[[T]], %[[W]] : tensor<1x16xf32>, tensor<16x4xf32> -> tensor<1x4xf32>
// CHECK-NEXT:    func.return %[[R]]
func.func @last_row_through_transpose(%x: tensor<16x8xf32>, %w: tensor<16x4xf32>) -> tensor<1x4xf32> {
  %t = red.transpose %x [1, 0] : tensor<16x8xf32> -> tensor<8x16xf32>
  %m = red.matmul %t, %w : tensor<8x16xf32>, tensor<16x4xf32> -> tensor<8x4xf32>
  %r = red.slice %m [7, 0] [8, 4] [1, 1] : tensor<8x4xf32> -> tensor<1x4xf32>
  func.return %r : tensor<1x4xf32>
}

// -----

// A reshape that keeps the leading axis (8x2x8 -> 8x16) maps rows to rows.
// CHECK-LABEL: func.func @last_row_through_reshape
// CHECK-SAME:    (%[[X:.*]]: tensor<8x2x8xf32>, %[[W:.*]]: tensor<16x4xf32>)
// CHECK-NEXT:    %[[XR:.*]] = red.slice %[[X]] [7, 0, 0] [8, 2, 8] [1, 1, 1] : tensor<8x2x8xf32> -> tensor<1x2x8xf32>
// CHECK-NEXT:    %[[E:.*]] = red.exp %[[XR]] : tensor<1x2x8xf32>
// CHECK-NEXT:    %[[F:.*]] = red.reshape %[[E]] : tensor<1x2x8xf32> -> tensor<1x16xf32>
// CHECK-NEXT:    %[[R:.*]] = red.matmul %[[F]], %[[W]] : tensor<1x16xf32>, tensor<16x4xf32> -> tensor<1x4xf32>
// CHECK-NEXT:    func.return %[[R]]
func.func @last_row_through_reshape(%x: tensor<8x2x8xf32>, %w: tensor<16x4xf32>) -> tensor<1x4xf32> {
  %e = red.exp %x : tensor<8x2x8xf32>
  %f = red.reshape %e : tensor<8x2x8xf32> -> tensor<8x16xf32>
  %m = red.matmul %f, %w : tensor<8x16xf32>, tensor<16x4xf32> -> tensor<8x4xf32>
  %r = red.slice %m [7, 0] [8, 4] [1, 1] : tensor<8x4xf32> -> tensor<1x4xf32>
  func.return %r : tensor<1x4xf32>
}

// -----

// A reshape that merges the sliced axis with another (8x16 -> 4x32) does not map rows:
// nothing is narrowed.
// CHECK-LABEL: func.func @no_narrow_reshape_merging_rows
// CHECK-SAME:    (%[[X:.*]]: tensor<8x16xf32>)
// CHECK-NEXT:    %[[E:.*]] = red.exp %[[X]] : tensor<8x16xf32>
// CHECK-NEXT:    %[[F:.*]] = red.reshape %[[E]] : tensor<8x16xf32> -> tensor<4x32xf32>
// CHECK-NEXT:    %[[R:.*]] = red.slice %[[F]] [3, 0] [4, 32] [1, 1] : tensor<4x32xf32> -> tensor<1x32xf32>
// CHECK-NEXT:    func.return %[[R]]
func.func @no_narrow_reshape_merging_rows(%x: tensor<8x16xf32>) -> tensor<1x32xf32> {
  %e = red.exp %x : tensor<8x16xf32>
  %f = red.reshape %e : tensor<8x16xf32> -> tensor<4x32xf32>
  %r = red.slice %f [3, 0] [4, 32] [1, 1] : tensor<4x32xf32> -> tensor<1x32xf32>
  func.return %r : tensor<1x32xf32>
}

// -----

// The last row of a concat comes from its last input only: the first input is not
// computed at all (the LSTM classifier's `fc(lstm_out)[-1]`).
// CHECK-LABEL: func.func @last_row_of_concat
// CHECK-SAME:    (%[[X:.*]]: tensor<3x16xf32>, %[[Y:.*]]: tensor<5x16xf32>, %[[W:.*]]: tensor<16x4xf32>)
// CHECK-NOT:     red.exp %[[X]]
// CHECK:         %[[YR:.*]] = red.slice %[[Y]] [4, 0] [5, 16] [1, 1] : tensor<5x16xf32> -> tensor<1x16xf32>
// CHECK-NEXT:    %[[E:.*]] = red.exp %[[YR]] : tensor<1x16xf32>
// CHECK-NEXT:    %[[R:.*]] = red.matmul %[[E]], %[[W]] : tensor<1x16xf32>, tensor<16x4xf32> -> tensor<1x4xf32>
// CHECK-NOT:     red.concat
// CHECK:         func.return %[[R]]
func.func @last_row_of_concat(%x: tensor<3x16xf32>, %y: tensor<5x16xf32>, %w: tensor<16x4xf32>) -> tensor<1x4xf32> {
  %ex = red.exp %x : tensor<3x16xf32>
  %ey = red.exp %y : tensor<5x16xf32>
  %c = red.concat %ex, %ey axis = 0 : tensor<3x16xf32>, tensor<5x16xf32> -> tensor<8x16xf32>
  %m = red.matmul %c, %w : tensor<8x16xf32>, tensor<16x4xf32> -> tensor<8x4xf32>
  %r = red.slice %m [7, 0] [8, 4] [1, 1] : tensor<8x4xf32> -> tensor<1x4xf32>
  func.return %r : tensor<1x4xf32>
}

// -----

// Rows 2..4 of a concat span both inputs: each input is narrowed to its own part.
// CHECK-LABEL: func.func @rows_spanning_concat_inputs
// CHECK-SAME:    (%[[X:.*]]: tensor<3x4xf32>, %[[Y:.*]]: tensor<5x4xf32>)
// CHECK-DAG:     %[[XR:.*]] = red.slice %[[X]] [2, 0] [3, 4] [1, 1] : tensor<3x4xf32> -> tensor<1x4xf32>
// CHECK-DAG:     %[[YR:.*]] = red.slice %[[Y]] [0, 0] [2, 4] [1, 1] : tensor<5x4xf32> -> tensor<2x4xf32>
// CHECK-DAG:     %[[EX:.*]] = red.exp %[[XR]] : tensor<1x4xf32>
// CHECK-DAG:     %[[EY:.*]] = red.exp %[[YR]] : tensor<2x4xf32>
// CHECK:         %[[C:.*]] = red.concat %[[EX]], %[[EY]] axis = 0 : tensor<1x4xf32>, tensor<2x4xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    %[[T:.*]] = red.tanh %[[C]] : tensor<3x4xf32>
// CHECK-NEXT:    func.return %[[T]]
func.func @rows_spanning_concat_inputs(%x: tensor<3x4xf32>, %y: tensor<5x4xf32>) -> tensor<3x4xf32> {
  %ex = red.exp %x : tensor<3x4xf32>
  %ey = red.exp %y : tensor<5x4xf32>
  %c = red.concat %ex, %ey axis = 0 : tensor<3x4xf32>, tensor<5x4xf32> -> tensor<8x4xf32>
  %t = red.tanh %c : tensor<8x4xf32>
  %r = red.slice %t [2, 0] [5, 4] [1, 1] : tensor<8x4xf32> -> tensor<3x4xf32>
  func.return %r : tensor<3x4xf32>
}

// -----

// A column slice of a matmul narrows its right-hand side; the left-hand side stays whole.
// CHECK-LABEL: func.func @matmul_column_slice
// CHECK-SAME:    (%[[X:.*]]: tensor<8x16xf32>, %[[W:.*]]: tensor<16x32xf32>)
// CHECK-NEXT:    %[[WC:.*]] = red.slice %[[W]] [0, 31] [16, 32] [1, 1] : tensor<16x32xf32> -> tensor<16x1xf32>
// CHECK-NEXT:    %[[R:.*]] = red.matmul %[[X]], %[[WC]] : tensor<8x16xf32>, tensor<16x1xf32> -> tensor<8x1xf32>
// CHECK-NEXT:    func.return %[[R]]
func.func @matmul_column_slice(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>) -> tensor<8x1xf32> {
  %m = red.matmul %x, %w : tensor<8x16xf32>, tensor<16x32xf32> -> tensor<8x32xf32>
  %r = red.slice %m [0, 31] [8, 32] [1, 1] : tensor<8x32xf32> -> tensor<8x1xf32>
  func.return %r : tensor<8x1xf32>
}

// -----

// The last query row of a batched attention score: only that row of the left operand, the
// whole transposed right operand, softmax over the kept last axis.
// CHECK-LABEL: func.func @last_query_row_of_attention
// CHECK-SAME:    (%[[Q:.*]]: tensor<2x8x4xf32>)
// CHECK-DAG:     %[[KT:.*]] = red.transpose %[[Q]] [0, 2, 1] : tensor<2x8x4xf32> -> tensor<2x4x8xf32>
// CHECK-DAG:     %[[QR:.*]] = red.slice %[[Q]] [0, 7, 0] [2, 8, 4] [1, 1, 1] : tensor<2x8x4xf32> -> tensor<2x1x4xf32>
// CHECK:         %[[S:.*]] = red.matmul %[[QR]], %[[KT]] : tensor<2x1x4xf32>, tensor<2x4x8xf32> -> tensor<2x1x8xf32>
// CHECK-NEXT:    %[[P:.*]] = red.softmax %[[S]] axis = 2 : tensor<2x1x8xf32>
// CHECK-NEXT:    func.return %[[P]]
func.func @last_query_row_of_attention(%q: tensor<2x8x4xf32>) -> tensor<2x1x8xf32> {
  %kt = red.transpose %q [0, 2, 1] : tensor<2x8x4xf32> -> tensor<2x4x8xf32>
  %s = red.matmul %q, %kt : tensor<2x8x4xf32>, tensor<2x4x8xf32> -> tensor<2x8x8xf32>
  %p = red.softmax %s axis = 2 : tensor<2x8x8xf32>
  %r = red.slice %p [0, 7, 0] [2, 8, 8] [1, 1, 1] : tensor<2x8x8xf32> -> tensor<2x1x8xf32>
  func.return %r : tensor<2x1x8xf32>
}

// -----

// Two slices of one value: its demand is the union of their rows (0 and 7, one strided
// slice of the input), and each slice is redirected to its row of the narrowed value.
// CHECK-LABEL: func.func @two_slices_union
// CHECK-SAME:    (%[[X:.*]]: tensor<8x4xf32>)
// CHECK-NEXT:    %[[XR:.*]] = red.slice %[[X]] [0, 0] [8, 4] [7, 1] : tensor<8x4xf32> -> tensor<2x4xf32>
// CHECK-NEXT:    %[[E:.*]] = red.exp %[[XR]] : tensor<2x4xf32>
// CHECK-NEXT:    %[[FIRST:.*]] = red.slice %[[E]] [0, 0] [1, 4] [1, 1] : tensor<2x4xf32> -> tensor<1x4xf32>
// CHECK-NEXT:    %[[LAST:.*]] = red.slice %[[E]] [1, 0] [2, 4] [1, 1] : tensor<2x4xf32> -> tensor<1x4xf32>
// CHECK-NEXT:    func.return %[[FIRST]], %[[LAST]]
func.func @two_slices_union(%x: tensor<8x4xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>) {
  %e = red.exp %x : tensor<8x4xf32>
  %a = red.slice %e [0, 0] [1, 4] [1, 1] : tensor<8x4xf32> -> tensor<1x4xf32>
  %b = red.slice %e [7, 0] [8, 4] [1, 1] : tensor<8x4xf32> -> tensor<1x4xf32>
  func.return %a, %b : tensor<1x4xf32>, tensor<1x4xf32>
}

// -----

// A reduction over another axis passes the row demand through.
// CHECK-LABEL: func.func @last_row_of_reduce_over_other_axis
// CHECK-SAME:    (%[[X:.*]]: tensor<8x4x3xf32>)
// CHECK-NEXT:    %[[XR:.*]] = red.slice %[[X]] [7, 0, 0] [8, 4, 3] [1, 1, 1] : tensor<8x4x3xf32> -> tensor<1x4x3xf32>
// CHECK-NEXT:    %[[E:.*]] = red.exp %[[XR]] : tensor<1x4x3xf32>
// CHECK-NEXT:    %[[S:.*]] = red.reduce_sum %[[E]] axes = [1] : tensor<1x4x3xf32> -> tensor<1x3xf32>
// CHECK-NEXT:    func.return %[[S]]
func.func @last_row_of_reduce_over_other_axis(%x: tensor<8x4x3xf32>) -> tensor<1x3xf32> {
  %e = red.exp %x : tensor<8x4x3xf32>
  %s = red.reduce_sum %e axes = [1] : tensor<8x4x3xf32> -> tensor<8x3xf32>
  %r = red.slice %s [7, 0] [8, 3] [1, 1] : tensor<8x3xf32> -> tensor<1x3xf32>
  func.return %r : tensor<1x3xf32>
}

// -----

// softmax over the sliced axis needs every row: nothing changes.
// CHECK-LABEL: func.func @no_narrow_softmax_over_sliced_axis
// CHECK-SAME:    (%[[X:.*]]: tensor<8x4xf32>)
// CHECK-NEXT:    %[[E:.*]] = red.exp %[[X]] : tensor<8x4xf32>
// CHECK-NEXT:    %[[P:.*]] = red.softmax %[[E]] axis = 0 : tensor<8x4xf32>
// CHECK-NEXT:    %[[R:.*]] = red.slice %[[P]] [7, 0] [8, 4] [1, 1] : tensor<8x4xf32> -> tensor<1x4xf32>
// CHECK-NEXT:    func.return %[[R]]
func.func @no_narrow_softmax_over_sliced_axis(%x: tensor<8x4xf32>) -> tensor<1x4xf32> {
  %e = red.exp %x : tensor<8x4xf32>
  %p = red.softmax %e axis = 0 : tensor<8x4xf32>
  %r = red.slice %p [7, 0] [8, 4] [1, 1] : tensor<8x4xf32> -> tensor<1x4xf32>
  func.return %r : tensor<1x4xf32>
}

// -----

// layer_norm normalises over axes 1.. (here 1 and 2): a demand on axis 1 is not row-wise.
// CHECK-LABEL: func.func @no_narrow_layer_norm_over_sliced_axis
// CHECK-SAME:    (%[[X:.*]]: tensor<2x8x4xf32>)
// CHECK-NEXT:    %[[E:.*]] = red.exp %[[X]] : tensor<2x8x4xf32>
// CHECK-NEXT:    %[[N:.*]] = red.layer_norm %[[E]] axis = 1 eps = 1.000000e-05 : tensor<2x8x4xf32>
// CHECK-NEXT:    %[[R:.*]] = red.slice %[[N]] [0, 7, 0] [2, 8, 4] [1, 1, 1] : tensor<2x8x4xf32> -> tensor<2x1x4xf32>
// CHECK-NEXT:    func.return %[[R]]
func.func @no_narrow_layer_norm_over_sliced_axis(%x: tensor<2x8x4xf32>) -> tensor<2x1x4xf32> {
  %e = red.exp %x : tensor<2x8x4xf32>
  %n = red.layer_norm %e axis = 1 eps = 1.0e-05 : tensor<2x8x4xf32>
  %r = red.slice %n [0, 7, 0] [2, 8, 4] [1, 1, 1] : tensor<2x8x4xf32> -> tensor<2x1x4xf32>
  func.return %r : tensor<2x1x4xf32>
}

// -----

// %e has another user that needs all its rows (a reduction over the sliced axis): %e stays
// whole, and the frontier slice goes on %e, feeding the narrowed tanh.
// CHECK-LABEL: func.func @frontier_at_value_needed_whole
// CHECK-SAME:    (%[[X:.*]]: tensor<8x4xf32>)
// CHECK-NEXT:    %[[E:.*]] = red.exp %[[X]] : tensor<8x4xf32>
// CHECK-NEXT:    %[[ER:.*]] = red.slice %[[E]] [7, 0] [8, 4] [1, 1] : tensor<8x4xf32> -> tensor<1x4xf32>
// CHECK-NEXT:    %[[T:.*]] = red.tanh %[[ER]] : tensor<1x4xf32>
// CHECK-NEXT:    %[[S:.*]] = red.reduce_sum %[[E]] axes = [0] : tensor<8x4xf32> -> tensor<4xf32>
// CHECK-NEXT:    func.return %[[T]], %[[S]]
func.func @frontier_at_value_needed_whole(%x: tensor<8x4xf32>) -> (tensor<1x4xf32>, tensor<4xf32>) {
  %e = red.exp %x : tensor<8x4xf32>
  %t = red.tanh %e : tensor<8x4xf32>
  %s = red.reduce_sum %e axes = [0] : tensor<8x4xf32> -> tensor<4xf32>
  %r = red.slice %t [7, 0] [8, 4] [1, 1] : tensor<8x4xf32> -> tensor<1x4xf32>
  func.return %r, %s : tensor<1x4xf32>, tensor<4xf32>
}

// -----

// A reduction over the sliced axis needs every row of its input: exp and reduce_max stay
// on all 8 rows; only the subtraction after the reduction is narrowed.
// CHECK-LABEL: func.func @no_narrow_reduce_over_sliced_axis
// CHECK-SAME:    (%[[X:.*]]: tensor<8x4xf32>)
// CHECK-NEXT:    %[[E:.*]] = red.exp %[[X]] : tensor<8x4xf32>
// CHECK-NEXT:    %[[M:.*]] = red.reduce_max %[[E]] axes = [0] keepdims : tensor<8x4xf32> -> tensor<1x4xf32>
// CHECK-NOT:     red.exp
// CHECK:         %[[ER:.*]] = red.slice %[[E]] [7, 0] [8, 4] [1, 1] : tensor<8x4xf32> -> tensor<1x4xf32>
// CHECK-NEXT:    %[[D:.*]] = red.sub %[[ER]], %[[M]] : tensor<1x4xf32>, tensor<1x4xf32> -> tensor<1x4xf32>
// CHECK-NEXT:    func.return %[[D]]
func.func @no_narrow_reduce_over_sliced_axis(%x: tensor<8x4xf32>) -> tensor<1x4xf32> {
  %e = red.exp %x : tensor<8x4xf32>
  %m = red.reduce_max %e axes = [0] keepdims : tensor<8x4xf32> -> tensor<1x4xf32>
  %d = red.sub %e, %m : tensor<8x4xf32>, tensor<1x4xf32> -> tensor<8x4xf32>
  %r = red.slice %d [7, 0] [8, 4] [1, 1] : tensor<8x4xf32> -> tensor<1x4xf32>
  func.return %r : tensor<1x4xf32>
}

// -----

// The value is also returned whole: no narrowing, the slice stays where it is.
// CHECK-LABEL: func.func @no_narrow_value_returned_whole
// CHECK-SAME:    (%[[X:.*]]: tensor<8x4xf32>)
// CHECK-NEXT:    %[[E:.*]] = red.exp %[[X]] : tensor<8x4xf32>
// CHECK-NEXT:    %[[R:.*]] = red.slice %[[E]] [7, 0] [8, 4] [1, 1] : tensor<8x4xf32> -> tensor<1x4xf32>
// CHECK-NEXT:    func.return %[[R]], %[[E]]
func.func @no_narrow_value_returned_whole(%x: tensor<8x4xf32>) -> (tensor<1x4xf32>, tensor<8x4xf32>) {
  %e = red.exp %x : tensor<8x4xf32>
  %r = red.slice %e [7, 0] [8, 4] [1, 1] : tensor<8x4xf32> -> tensor<1x4xf32>
  func.return %r, %e : tensor<1x4xf32>, tensor<8x4xf32>
}

// -----

// A slice of a slice where only part of the inner slice is used: the inner slice is not
// rebuilt, so it keeps reading the whole %e (regression: redirecting it onto the narrowed
// %e looked up rows that were not computed and crashed with a KeyError).
// CHECK-LABEL: func.func @partly_used_inner_slice
// CHECK-SAME:    (%[[X:.*]]: tensor<8x4xf32>)
// CHECK-NEXT:    %[[E:.*]] = red.exp %[[X]] : tensor<8x4xf32>
// CHECK-NEXT:    %[[ER:.*]] = red.slice %[[E]] [7, 0] [8, 4] [1, 1] : tensor<8x4xf32> -> tensor<1x4xf32>
// CHECK-NEXT:    %[[T:.*]] = red.tanh %[[ER]] : tensor<1x4xf32>
// CHECK-NEXT:    func.return %[[T]]
func.func @partly_used_inner_slice(%x: tensor<8x4xf32>) -> tensor<1x4xf32> {
  %e = red.exp %x : tensor<8x4xf32>
  %s = red.slice %e [4, 0] [8, 4] [1, 1] : tensor<8x4xf32> -> tensor<4x4xf32>
  %t = red.tanh %s : tensor<4x4xf32>
  %r = red.slice %t [3, 0] [4, 4] [1, 1] : tensor<4x4xf32> -> tensor<1x4xf32>
  func.return %r : tensor<1x4xf32>
}

// -----

// The same for a gather by constant indices of which one row is used.
// CHECK-LABEL: func.func @partly_used_inner_gather
// CHECK-SAME:    (%[[X:.*]]: tensor<8x4xf32>)
// CHECK:         %[[E:.*]] = red.exp %[[X]] : tensor<8x4xf32>
// CHECK:         %[[G:.*]] = red.gather %[[E]], %{{.*}} axis = 0 : tensor<8x4xf32>, tensor<3xi64> -> tensor<3x4xf32>
// CHECK-NEXT:    %[[GR:.*]] = red.slice %[[G]] [2, 0] [3, 4] [1, 1] : tensor<3x4xf32> -> tensor<1x4xf32>
// CHECK-NEXT:    %[[T:.*]] = red.tanh %[[GR]] : tensor<1x4xf32>
// CHECK-NEXT:    func.return %[[T]]
func.func @partly_used_inner_gather(%x: tensor<8x4xf32>) -> tensor<1x4xf32> {
  %e = red.exp %x : tensor<8x4xf32>
  %i = red.constant dense<[2, 5, 7]> : tensor<3xi64>
  %g = red.gather %e, %i axis = 0 : tensor<8x4xf32>, tensor<3xi64> -> tensor<3x4xf32>
  %t = red.tanh %g : tensor<3x4xf32>
  %r = red.slice %t [2, 0] [3, 4] [1, 1] : tensor<3x4xf32> -> tensor<1x4xf32>
  func.return %r : tensor<1x4xf32>
}
