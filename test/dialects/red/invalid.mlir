// RUN: red-opt %s --split-input-file --verify-diagnostics

func.func @matmul_contracting(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{'red.matmul' op contracting dimensions differ: lhs has 3, rhs has 4}}
  %c = red.matmul %a, %b : tensor<2x3xf32>, tensor<4x5xf32> -> tensor<2x5xf32>
  func.return %c : tensor<2x5xf32>
}

// -----

func.func @add_no_broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'red.add' op operand shapes 2x3 and 4 do not broadcast}}
  %c = red.add %a, %b : tensor<2x3xf32>, tensor<4xf32> -> tensor<2x3xf32>
  func.return %c : tensor<2x3xf32>
}

// -----

func.func @transpose_bad_perm(%a: tensor<2x3x4xf32>) -> tensor<3x2x4xf32> {
  // expected-error @+1 {{'red.transpose' op permutation [1, 1, 0] is not a permutation of 0..2 (input rank 3)}}
  %t = red.transpose %a [1, 1, 0] : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
  func.return %t : tensor<3x2x4xf32>
}

// -----

func.func @reshape_count(%a: tensor<2x6xf32>) -> tensor<5x4xf32> {
  // expected-error @+1 {{'red.reshape' op reshape changes the element count: input 2x6 has 12, result 5x4 has 20}}
  %r = red.reshape %a : tensor<2x6xf32> -> tensor<5x4xf32>
  func.return %r : tensor<5x4xf32>
}

// -----

func.func @use_before_def(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{operand #0 does not dominate this use}}
  %b = red.neg %c : tensor<4xf32>
  %c = red.exp %a : tensor<4xf32>
  func.return %b : tensor<4xf32>
}

// -----

// region Constants

func.func @constant_type_mismatch() -> tensor<3xf32> {
  // expected-error @+1 {{'red.constant' op value type 'tensor<2xf32>' differs from result type 'tensor<3xf32>'}}
  %c = "red.constant"() <{value = dense<[1.0, 2.0]> : tensor<2xf32>}> : () -> tensor<3xf32>
  func.return %c : tensor<3xf32>
}

// -----

func.func @constant_not_dense() -> tensor<2xf32> {
  // expected-error @+1 {{expected a dense elements attribute}}
  %c = red.constant [1.0, 2.0] : tensor<2xf32>
  func.return %c : tensor<2xf32>
}

// -----

func.func @constant_not_tensor() -> vector<2xf32> {
  // expected-error @+1 {{'red.constant' op result 'result' at position 0 does not verify: vector<2xf32> should be of base attribute tensor}}
  %c = red.constant dense<1.0> : vector<2xf32>
  func.return %c : vector<2xf32>
}

// -----

func.func @iota_dimension_out_of_range() -> tensor<4x8x2xi64> {
  // expected-error @+1 {{'red.iota' op dimension 5 is out of range for rank 3 (expected 0 <= dimension < 3)}}
  %i = red.iota dim = 5 : tensor<4x8x2xi64>
  func.return %i : tensor<4x8x2xi64>
}

// -----

func.func @iota_negative_dimension() -> tensor<4x8xi64> {
  // expected-error @+1 {{'red.iota' op dimension -1 is out of range for rank 2 (expected 0 <= dimension < 2)}}
  %i = red.iota dim = -1 : tensor<4x8xi64>
  func.return %i : tensor<4x8xi64>
}

// endregion Constants

// -----

// region Elementwise

func.func @binary_element_types(%a: tensor<4xf32>, %b: tensor<4xf64>) -> tensor<4xf32> {
  // expected-error @+1 {{'red.add' op operand element types differ: lhs has 'f32', rhs has 'f64'}}
  %c = red.add %a, %b : tensor<4xf32>, tensor<4xf64> -> tensor<4xf32>
  func.return %c : tensor<4xf32>
}

// -----

func.func @binary_shapes_dynamic(%a: tensor<?x3xf32>, %b: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'red.max' op operand shapes ?x3 and 2x4 do not broadcast}}
  %c = red.max %a, %b : tensor<?x3xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  func.return %c : tensor<2x4xf32>
}

// -----

func.func @binary_result_shape(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<5x3xf32> {
  // expected-error @+1 {{'red.sub' op expected result type 'tensor<2x3xf32>', got 'tensor<5x3xf32>'}}
  %c = red.sub %a, %b : tensor<2x3xf32>, tensor<3xf32> -> tensor<5x3xf32>
  func.return %c : tensor<5x3xf32>
}

// -----

func.func @binary_result_element_type(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf16> {
  // expected-error @+1 {{'red.mul' op expected result type 'tensor<4xf32>', got 'tensor<4xf16>'}}
  %c = red.mul %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf16>
  func.return %c : tensor<4xf16>
}

// -----

func.func @pow_integer(%a: tensor<4xi32>, %b: tensor<4xi32>) -> tensor<4xi32> {
  // expected-error @+1 {{'red.pow' op expected a floating-point element type, got 'i32'}}
  %c = red.pow %a, %b : tensor<4xi32>, tensor<4xi32> -> tensor<4xi32>
  func.return %c : tensor<4xi32>
}

// -----

func.func @binary_not_tensor(%a: f32) -> tensor<f32> {
  // expected-error @+1 {{'red.div' op operand 'lhs' at position 0 does not verify: f32 should be of base attribute tensor}}
  %c = "red.div"(%a, %a) : (f32, f32) -> tensor<f32>
  func.return %c : tensor<f32>
}

// -----

func.func @binary_operand_count(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'red.min' op Expected 2 operands, but got 1}}
  %c = "red.min"(%a) : (tensor<4xf32>) -> tensor<4xf32>
  func.return %c : tensor<4xf32>
}

// -----

func.func @compare_result_not_i1(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'red.lt' op expected result type 'tensor<4xi1>', got 'tensor<4xf32>'}}
  %c = red.lt %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %c : tensor<4xf32>
}

// -----

func.func @compare_element_types(%a: tensor<4xi64>, %b: tensor<4xi32>) -> tensor<4xi1> {
  // expected-error @+1 {{'red.eq' op operand element types differ: lhs has 'i64', rhs has 'i32'}}
  %c = red.eq %a, %b : tensor<4xi64>, tensor<4xi32> -> tensor<4xi1>
  func.return %c : tensor<4xi1>
}

// -----

func.func @compare_shapes(%a: tensor<3xf32>, %b: tensor<5xf32>) -> tensor<5xi1> {
  // expected-error @+1 {{'red.ge' op operand shapes 3 and 5 do not broadcast}}
  %c = red.ge %a, %b : tensor<3xf32>, tensor<5xf32> -> tensor<5xi1>
  func.return %c : tensor<5xi1>
}

// -----

func.func @select_condition_not_i1(%m: tensor<4xf32>, %a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'red.select' op expected an 'i1' condition, got 'f32'}}
  %c = red.select %m, %a, %b : tensor<4xf32>, tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %c : tensor<4xf32>
}

// -----

func.func @select_value_types(%m: tensor<4xi1>, %a: tensor<4xf32>, %b: tensor<4xi64>) -> tensor<4xf32> {
  // expected-error @+1 {{'red.select' op value element types differ: true has 'f32', false has 'i64'}}
  %c = red.select %m, %a, %b : tensor<4xi1>, tensor<4xf32>, tensor<4xi64> -> tensor<4xf32>
  func.return %c : tensor<4xf32>
}

// -----

func.func @select_shapes(%m: tensor<2xi1>, %a: tensor<3xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'red.select' op operand shapes 2, 3, 4 do not broadcast}}
  %c = red.select %m, %a, %b : tensor<2xi1>, tensor<3xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %c : tensor<4xf32>
}

// -----

func.func @select_result(%m: tensor<4x1xi1>, %a: tensor<6xf32>, %b: tensor<f32>) -> tensor<6x4xf32> {
  // expected-error @+1 {{'red.select' op expected result type 'tensor<4x6xf32>', got 'tensor<6x4xf32>'}}
  %c = red.select %m, %a, %b : tensor<4x1xi1>, tensor<6xf32>, tensor<f32> -> tensor<6x4xf32>
  func.return %c : tensor<6x4xf32>
}

// -----

func.func @cast_shape(%a: tensor<4xi64>) -> tensor<5xf32> {
  // expected-error @+1 {{'red.cast' op expected result shape 4, got 5}}
  %c = red.cast %a : tensor<4xi64> -> tensor<5xf32>
  func.return %c : tensor<5xf32>
}

// -----

func.func @unary_float_only(%a: tensor<4xi32>) -> tensor<4xi32> {
  // expected-error @+1 {{'red.exp' op expected a floating-point element type, got 'i32'}}
  %c = red.exp %a : tensor<4xi32>
  func.return %c : tensor<4xi32>
}

// -----

func.func @unary_i1(%a: tensor<4xi1>) -> tensor<4xi1> {
  // expected-error @+1 {{'red.neg' op expected a numeric element type, got 'i1'}}
  %c = red.neg %a : tensor<4xi1>
  func.return %c : tensor<4xi1>
}

// -----

func.func @unary_result_type(%a: tensor<4xf32>) -> tensor<5xf32> {
  // expected-error @+1 {{'red.tanh' op result 'result' at position 0 does not verify: attribute tensor<4xf32> expected from variable 'T', but got tensor<5xf32>}}
  %c = "red.tanh"(%a) : (tensor<4xf32>) -> tensor<5xf32>
  func.return %c : tensor<5xf32>
}

// -----

func.func @gelu_approximation(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'red.gelu' op expected approximate to be 'none' or 'tanh', got 'erf'}}
  %c = red.gelu %a approximate = "erf" : tensor<4xf32>
  func.return %c : tensor<4xf32>
}

// -----

func.func @gelu_integer(%a: tensor<4xi64>) -> tensor<4xi64> {
  // expected-error @+1 {{'red.gelu' op expected a floating-point element type, got 'i64'}}
  %c = red.gelu %a approximate = "tanh" : tensor<4xi64>
  func.return %c : tensor<4xi64>
}

// endregion Elementwise

// -----

// region Contraction

func.func @matmul_element_types(%a: tensor<2x3xf32>, %b: tensor<3x4xf16>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'red.matmul' op operand element types differ: lhs has 'f32', rhs has 'f16'}}
  %c = red.matmul %a, %b : tensor<2x3xf32>, tensor<3x4xf16> -> tensor<2x4xf32>
  func.return %c : tensor<2x4xf32>
}

// -----

func.func @matmul_rank(%a: tensor<3xf32>, %b: tensor<3x4x5xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'red.matmul' op expected operands of rank >= 2, got 1 and 3}}
  %c = red.matmul %a, %b : tensor<3xf32>, tensor<3x4x5xf32> -> tensor<4xf32>
  func.return %c : tensor<4xf32>
}

// -----

func.func @matmul_batch(%a: tensor<2x3x4xf32>, %b: tensor<5x4x6xf32>) -> tensor<2x3x6xf32> {
  // expected-error @+1 {{'red.matmul' op batch dimensions 2 and 5 do not broadcast}}
  %c = red.matmul %a, %b : tensor<2x3x4xf32>, tensor<5x4x6xf32> -> tensor<2x3x6xf32>
  func.return %c : tensor<2x3x6xf32>
}

// -----

func.func @matmul_result(%a: tensor<7x2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'red.matmul' op expected result type 'tensor<7x2x4xf32>', got 'tensor<2x4xf32>'}}
  %c = red.matmul %a, %b : tensor<7x2x3xf32>, tensor<3x4xf32> -> tensor<2x4xf32>
  func.return %c : tensor<2x4xf32>
}

// endregion Contraction

// -----

// region Shape

func.func @transpose_permutation_length(%a: tensor<2x3x4xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'red.transpose' op permutation [1, 0] is not a permutation of 0..2 (input rank 3)}}
  %t = red.transpose %a [1, 0] : tensor<2x3x4xf32> -> tensor<3x2xf32>
  func.return %t : tensor<3x2xf32>
}

// -----

func.func @transpose_permutation_range(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'red.transpose' op permutation [1, 7] is not a permutation of 0..1 (input rank 2)}}
  %t = red.transpose %a [1, 7] : tensor<2x3xf32> -> tensor<3x2xf32>
  func.return %t : tensor<3x2xf32>
}

// -----

func.func @transpose_result(%a: tensor<2x3x4xf32>) -> tensor<2x4x3xf32> {
  // expected-error @+1 {{'red.transpose' op expected result type 'tensor<3x2x4xf32>', got 'tensor<2x4x3xf32>'}}
  %t = red.transpose %a [1, 0, 2] : tensor<2x3x4xf32> -> tensor<2x4x3xf32>
  func.return %t : tensor<2x4x3xf32>
}

// -----

func.func @reshape_element_type(%a: tensor<2x6xf32>) -> tensor<12xi32> {
  // expected-error @+1 {{'red.reshape' op element types differ: input has 'f32', result has 'i32'}}
  %r = red.reshape %a : tensor<2x6xf32> -> tensor<12xi32>
  func.return %r : tensor<12xi32>
}

// -----

func.func @broadcast_to_element_type(%a: tensor<3xf32>) -> tensor<2x3xf16> {
  // expected-error @+1 {{'red.broadcast_to' op element types differ: input has 'f32', result has 'f16'}}
  %r = red.broadcast_to %a : tensor<3xf32> -> tensor<2x3xf16>
  func.return %r : tensor<2x3xf16>
}

// -----

func.func @broadcast_to_incompatible(%a: tensor<2x3xf32>) -> tensor<5x4x3xf32> {
  // expected-error @+1 {{'red.broadcast_to' op input shape 2x3 does not broadcast to 5x4x3}}
  %r = red.broadcast_to %a : tensor<2x3xf32> -> tensor<5x4x3xf32>
  func.return %r : tensor<5x4x3xf32>
}

// -----

func.func @broadcast_to_lower_rank(%a: tensor<1x2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'red.broadcast_to' op input shape 1x2x3 does not broadcast to 2x3}}
  %r = red.broadcast_to %a : tensor<1x2x3xf32> -> tensor<2x3xf32>
  func.return %r : tensor<2x3xf32>
}

// -----

func.func @broadcast_to_dynamic(%a: tensor<?x3xf32>) -> tensor<4x5xf32> {
  // expected-error @+1 {{'red.broadcast_to' op input shape ?x3 does not broadcast to 4x5}}
  %r = red.broadcast_to %a : tensor<?x3xf32> -> tensor<4x5xf32>
  func.return %r : tensor<4x5xf32>
}

// -----

func.func @slice_start_count(%a: tensor<4x8xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{'red.slice' op expected 2 start values (input rank), got 1}}
  %s = red.slice %a [1] [2, 8] [1, 2] : tensor<4x8xf32> -> tensor<1x4xf32>
  func.return %s : tensor<1x4xf32>
}

// -----

func.func @slice_limit_count(%a: tensor<4x8xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{'red.slice' op expected 2 limit values (input rank), got 3}}
  %s = red.slice %a [1, 0] [2, 8, 9] [1, 2] : tensor<4x8xf32> -> tensor<1x4xf32>
  func.return %s : tensor<1x4xf32>
}

// -----

func.func @slice_stride_count(%a: tensor<4x8xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{'red.slice' op expected 2 stride values (input rank), got 0}}
  %s = red.slice %a [1, 0] [2, 8] [] : tensor<4x8xf32> -> tensor<1x4xf32>
  func.return %s : tensor<1x4xf32>
}

// -----

func.func @slice_zero_stride(%a: tensor<4x8xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{'red.slice' op stride 0 of dimension 1 must be >= 1}}
  %s = red.slice %a [1, 0] [2, 8] [1, 0] : tensor<4x8xf32> -> tensor<1x4xf32>
  func.return %s : tensor<1x4xf32>
}

// -----

func.func @slice_negative_stride(%a: tensor<4x8xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{'red.slice' op stride -2 of dimension 0 must be >= 1}}
  %s = red.slice %a [3, 0] [1, 8] [-2, 2] : tensor<4x8xf32> -> tensor<1x4xf32>
  func.return %s : tensor<1x4xf32>
}

// -----

func.func @slice_limit_out_of_bounds(%a: tensor<4x8xf32>) -> tensor<1x3xf32> {
  // expected-error @+1 {{'red.slice' op slice [3, 9) of dimension 1 is out of bounds for size 8 (expected 0 <= start <= limit <= size)}}
  %s = red.slice %a [1, 3] [2, 9] [1, 2] : tensor<4x8xf32> -> tensor<1x3xf32>
  func.return %s : tensor<1x3xf32>
}

// -----

func.func @slice_start_after_limit(%a: tensor<4x8xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{'red.slice' op slice [3, 2) of dimension 0 is out of bounds for size 4 (expected 0 <= start <= limit <= size)}}
  %s = red.slice %a [3, 0] [2, 8] [1, 2] : tensor<4x8xf32> -> tensor<1x4xf32>
  func.return %s : tensor<1x4xf32>
}

// -----

func.func @slice_negative_start(%a: tensor<4x8xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{'red.slice' op slice [-2, 6) of dimension 1 is out of bounds for size 8 (expected 0 <= start <= limit <= size)}}
  %s = red.slice %a [0, -2] [1, 6] [1, 2] : tensor<4x8xf32> -> tensor<1x4xf32>
  func.return %s : tensor<1x4xf32>
}

// -----

func.func @slice_result(%a: tensor<4x8xf32>) -> tensor<1x5xf32> {
  // expected-error @+1 {{'red.slice' op expected result type 'tensor<1x4xf32>', got 'tensor<1x5xf32>'}}
  %s = red.slice %a [1, 0] [2, 8] [1, 2] : tensor<4x8xf32> -> tensor<1x5xf32>
  func.return %s : tensor<1x5xf32>
}

// -----

func.func @concat_no_inputs() -> tensor<0xf32> {
  // expected-error @+1 {{'red.concat' op expected at least one input}}
  %c = "red.concat"() <{axis = 0 : i64}> : () -> tensor<0xf32>
  func.return %c : tensor<0xf32>
}

// -----

func.func @concat_axis(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{'red.concat' op axis 3 is out of range for rank 2 (expected 0 <= axis < 2)}}
  %c = red.concat %a, %b axis = 3 : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x6xf32>
  func.return %c : tensor<2x6xf32>
}

// -----

func.func @concat_element_types(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>, %d: tensor<2x5xf64>) -> tensor<2x12xf32> {
  // expected-error @+1 {{'red.concat' op input #2 has element type 'f64', expected 'f32'}}
  %c = red.concat %a, %b, %d axis = 1 : tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x5xf64> -> tensor<2x12xf32>
  func.return %c : tensor<2x12xf32>
}

// -----

func.func @concat_shapes(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<6x3xf32> {
  // expected-error @+1 {{'red.concat' op input #1 has shape 4x5, expected 2x3 except along axis 0}}
  %c = red.concat %a, %b axis = 0 : tensor<2x3xf32>, tensor<4x5xf32> -> tensor<6x3xf32>
  func.return %c : tensor<6x3xf32>
}

// -----

func.func @concat_ranks(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>, %d: tensor<2x3x1xf32>) -> tensor<6x3xf32> {
  // expected-error @+1 {{'red.concat' op input #2 has shape 2x3x1, expected 2x3 except along axis 0}}
  %c = red.concat %a, %b, %d axis = 0 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x1xf32> -> tensor<6x3xf32>
  func.return %c : tensor<6x3xf32>
}

// -----

func.func @concat_result(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>) -> tensor<7x3xf32> {
  // expected-error @+1 {{'red.concat' op expected result type 'tensor<6x3xf32>', got 'tensor<7x3xf32>'}}
  %c = red.concat %a, %b axis = 0 : tensor<2x3xf32>, tensor<4x3xf32> -> tensor<7x3xf32>
  func.return %c : tensor<7x3xf32>
}

// -----

func.func @gather_float_indices(%t: tensor<16x8xf32>, %i: tensor<4xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'red.gather' op expected integer indices, got element type 'f32'}}
  %g = red.gather %t, %i axis = 0 : tensor<16x8xf32>, tensor<4xf32> -> tensor<4x8xf32>
  func.return %g : tensor<4x8xf32>
}

// -----

func.func @gather_i1_indices(%t: tensor<16x8xf32>, %i: tensor<4xi1>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'red.gather' op expected integer indices, got element type 'i1'}}
  %g = red.gather %t, %i axis = 0 : tensor<16x8xf32>, tensor<4xi1> -> tensor<4x8xf32>
  func.return %g : tensor<4x8xf32>
}

// -----

func.func @gather_axis(%t: tensor<16x8xf32>, %i: tensor<4xi64>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'red.gather' op axis 4 is out of range for rank 2 (expected 0 <= axis < 2)}}
  %g = red.gather %t, %i axis = 4 : tensor<16x8xf32>, tensor<4xi64> -> tensor<4x8xf32>
  func.return %g : tensor<4x8xf32>
}

// -----

func.func @gather_negative_axis(%t: tensor<16x8xf32>, %i: tensor<4xi64>) -> tensor<16x4xf32> {
  // expected-error @+1 {{'red.gather' op axis -1 is out of range for rank 2 (expected 0 <= axis < 2)}}
  %g = red.gather %t, %i axis = -1 : tensor<16x8xf32>, tensor<4xi64> -> tensor<16x4xf32>
  func.return %g : tensor<16x4xf32>
}

// -----

func.func @gather_result(%t: tensor<16x8xf32>, %i: tensor<4xi64>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'red.gather' op expected result type 'tensor<4x8xf32>', got 'tensor<4x16xf32>'}}
  %g = red.gather %t, %i axis = 0 : tensor<16x8xf32>, tensor<4xi64> -> tensor<4x16xf32>
  func.return %g : tensor<4x16xf32>
}

// endregion Shape

// -----

// region Reductions and normalizations

func.func @reduce_axis_out_of_range(%a: tensor<2x3xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'red.reduce_sum' op axis 3 is out of range for rank 2 (expected 0 <= axis < 2)}}
  %r = red.reduce_sum %a axes = [3] : tensor<2x3xf32> -> tensor<2xf32>
  func.return %r : tensor<2xf32>
}

// -----

func.func @reduce_repeated_axis(%a: tensor<2x3x4xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'red.reduce_max' op axes [1, 2, 1] repeat an axis}}
  %r = red.reduce_max %a axes = [1, 2, 1] : tensor<2x3x4xf32> -> tensor<2xf32>
  func.return %r : tensor<2xf32>
}

// -----

func.func @reduce_mean_integer(%a: tensor<2x3xi64>) -> tensor<2xi64> {
  // expected-error @+1 {{'red.reduce_mean' op expected a floating-point element type, got 'i64'}}
  %r = red.reduce_mean %a axes = [1] : tensor<2x3xi64> -> tensor<2xi64>
  func.return %r : tensor<2xi64>
}

// -----

func.func @reduce_keepdims_result(%a: tensor<2x3xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'red.reduce_sum' op expected result type 'tensor<2x1xf32>', got 'tensor<2xf32>'}}
  %r = red.reduce_sum %a axes = [1] keepdims : tensor<2x3xf32> -> tensor<2xf32>
  func.return %r : tensor<2xf32>
}

// -----

func.func @reduce_result(%a: tensor<2x3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'red.reduce_mean' op expected result type 'tensor<2xf32>', got 'tensor<3xf32>'}}
  %r = red.reduce_mean %a axes = [1] : tensor<2x3xf32> -> tensor<3xf32>
  func.return %r : tensor<3xf32>
}

// -----

func.func @softmax_axis(%a: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'red.softmax' op axis 5 is out of range for rank 2 (expected 0 <= axis < 2)}}
  %r = red.softmax %a axis = 5 : tensor<4x8xf32>
  func.return %r : tensor<4x8xf32>
}

// -----

func.func @softmax_integer(%a: tensor<4x8xi32>) -> tensor<4x8xi32> {
  // expected-error @+1 {{'red.softmax' op expected a floating-point element type, got 'i32'}}
  %r = red.softmax %a axis = 1 : tensor<4x8xi32>
  func.return %r : tensor<4x8xi32>
}

// -----

func.func @softmax_missing_axis(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'red.softmax' op property 'axis' expected in operation 'red.softmax'}}
  %c = "red.softmax"(%a) : (tensor<4xf32>) -> tensor<4xf32>
  func.return %c : tensor<4xf32>
}

// -----

func.func @layer_norm_axis(%a: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'red.layer_norm' op axis 3 is out of range for rank 2 (expected 0 <= axis < 2)}}
  %r = red.layer_norm %a axis = 3 eps = 1.0e-05 : tensor<4x8xf32>
  func.return %r : tensor<4x8xf32>
}

// -----

func.func @layer_norm_integer(%a: tensor<4x8xi16>) -> tensor<4x8xi16> {
  // expected-error @+1 {{'red.layer_norm' op expected a floating-point element type, got 'i16'}}
  %r = red.layer_norm %a axis = 1 eps = 1.0e-05 : tensor<4x8xi16>
  func.return %r : tensor<4x8xi16>
}

// -----

func.func @layer_norm_negative_eps(%a: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'red.layer_norm' op expected eps >= 0, got -0.25}}
  %r = red.layer_norm %a axis = 1 eps = -2.5e-01 : tensor<4x8xf32>
  func.return %r : tensor<4x8xf32>
}

// -----

func.func @rms_norm_axis(%a: tensor<4x8x2xf32>) -> tensor<4x8x2xf32> {
  // expected-error @+1 {{'red.rms_norm' op axis -2 is out of range for rank 3 (expected 0 <= axis < 3)}}
  %r = red.rms_norm %a axis = -2 eps = 1.0e-06 : tensor<4x8x2xf32>
  func.return %r : tensor<4x8x2xf32>
}

// -----

func.func @rms_norm_integer(%a: tensor<4x8xi64>) -> tensor<4x8xi64> {
  // expected-error @+1 {{'red.rms_norm' op expected a floating-point element type, got 'i64'}}
  %r = red.rms_norm %a axis = 1 eps = 1.0e-06 : tensor<4x8xi64>
  func.return %r : tensor<4x8xi64>
}

// -----

func.func @rms_norm_nan_eps(%a: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'red.rms_norm' op expected eps >= 0, got nan}}
  %r = "red.rms_norm"(%a) <{axis = 1 : i64, eps = 0x7FF8000000000000 : f64}> : (tensor<4x8xf32>) -> tensor<4x8xf32>
  func.return %r : tensor<4x8xf32>
}

// endregion Reductions and normalizations

// -----

// region Caching

func.func @memo_block_argument_types(%w: tensor<8x4xf32> {red.invariant}) -> tensor<4x8xf32> {
  // expected-error @+1 {{'red.memo' op block argument types (tensor<4x8xf32>) differ from operand types (tensor<8x4xf32>)}}
  %r = red.memo(%w) : (tensor<8x4xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<4x8xf32>):
    red.yield %a : tensor<4x8xf32>
  }
  func.return %r : tensor<4x8xf32>
}

// -----

func.func @memo_block_argument_count(%w: tensor<8x4xf32> {red.invariant}, %v: tensor<2xf32> {red.invariant}) -> tensor<8x4xf32> {
  // expected-error @+1 {{'red.memo' op block argument types (tensor<8x4xf32>) differ from operand types (tensor<8x4xf32>, tensor<2xf32>)}}
  %r = red.memo(%w, %v) : (tensor<8x4xf32>, tensor<2xf32>) -> tensor<8x4xf32> {
  ^bb0(%a: tensor<8x4xf32>):
    red.yield %a : tensor<8x4xf32>
  }
  func.return %r : tensor<8x4xf32>
}

// -----

func.func @memo_yield_types(%w: tensor<8x4xf32> {red.invariant}) -> tensor<4x8xf32> {
  // expected-error @+1 {{'red.memo' op yielded types (tensor<8x4xf32>) differ from result types (tensor<4x8xf32>)}}
  %r = red.memo(%w) : (tensor<8x4xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<8x4xf32>):
    red.yield %a : tensor<8x4xf32>
  }
  func.return %r : tensor<4x8xf32>
}

// -----

func.func @memo_yield_count(%w: tensor<8x4xf32> {red.invariant}) -> (tensor<8x4xf32>, tensor<8x4xf32>) {
  // expected-error @+1 {{'red.memo' op yielded types (tensor<8x4xf32>) differ from result types (tensor<8x4xf32>, tensor<8x4xf32>)}}
  %r:2 = red.memo(%w) : (tensor<8x4xf32>) -> (tensor<8x4xf32>, tensor<8x4xf32>) {
  ^bb0(%a: tensor<8x4xf32>):
    red.yield %a : tensor<8x4xf32>
  }
  func.return %r#0, %r#1 : tensor<8x4xf32>, tensor<8x4xf32>
}

// -----

func.func @memo_no_yield(%w: tensor<8x4xf32> {red.invariant}) -> tensor<8x4xf32> {
  // expected-error @+1 {{'red.memo' op expected the region to end with 'red.yield'}}
  %r = red.memo(%w) : (tensor<8x4xf32>) -> tensor<8x4xf32> {
  ^bb0(%a: tensor<8x4xf32>):
    %n = red.neg %a : tensor<8x4xf32>
  }
  func.return %r : tensor<8x4xf32>
}

// -----

func.func @memo_empty_region(%w: tensor<8x4xf32> {red.invariant}) -> tensor<8x4xf32> {
  // expected-error @+1 {{'red.memo' op Region 'body' at position 0 expected a single block, but got 0 blocks}}
  %r = red.memo(%w) : (tensor<8x4xf32>) -> tensor<8x4xf32> {
  }
  func.return %r : tensor<8x4xf32>
}

// -----

func.func @memo_not_isolated(%w: tensor<8x4xf32> {red.invariant}, %v: tensor<8x4xf32>) -> tensor<8x4xf32> {
  // expected-error @+1 {{'red.memo' op Operation using value defined out of its IsolatedFromAbove parent: YieldOp(red.yield %v : tensor<8x4xf32>)}}
  %r = red.memo(%w) : (tensor<8x4xf32>) -> tensor<8x4xf32> {
  ^bb0(%a: tensor<8x4xf32>):
    red.yield %v : tensor<8x4xf32>
  }
  func.return %r : tensor<8x4xf32>
}

// -----

func.func @yield_outside_memo(%w: tensor<8x4xf32>) -> tensor<8x4xf32> {
  // expected-error @+1 {{'red.yield' op expects parent op 'red.memo'}}
  red.yield %w : tensor<8x4xf32>
}

// -----

// expected-error @+1 {{'func.func' op argument #1: 'red.invariant' must be a unit attribute}}
func.func @invariant_not_unit(%x: tensor<4xf32>, %w: tensor<8x4xf32> {red.invariant = 1 : i64}) -> tensor<8x4xf32> {
  func.return %w : tensor<8x4xf32>
}

// endregion Caching

// -----

// region Dominance

// A value defined in a block that does not dominate its use.
func.func @use_not_dominated(%a: tensor<4xf32>, %c: i1) -> tensor<4xf32> {
  cf.cond_br %c, ^bb1, ^bb2
^bb1:
  // expected-note @+1 {{operand defined here}}
  %x = red.exp %a : tensor<4xf32>
  cf.br ^bb2
^bb2:
  // expected-error @+1 {{operand #0 does not dominate this use}}
  %y = red.neg %x : tensor<4xf32>
  func.return %y : tensor<4xf32>
}

// -----

// An op that uses its own result.
func.func @use_own_result(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{operand #1 does not dominate this use}}
  %b = red.add %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  func.return %b : tensor<4xf32>
}

// endregion Dominance

// -----

func.func @argmax_axis(%x: tensor<4x8xf32>) -> tensor<4xi64> {
  // expected-error @+1 {{'red.argmax' op axis 2 is out of range for rank 2 (expected 0 <= axis < 2)}}
  %a = red.argmax %x axis = 2 : tensor<4x8xf32> -> tensor<4xi64>
  func.return %a : tensor<4xi64>
}

// -----

func.func @argmax_result_type(%x: tensor<4x8xf32>) -> tensor<8xi64> {
  // expected-error @+1 {{'red.argmax' op expected result type 'tensor<4xi64>', got 'tensor<8xi32>'}}
  %a = red.argmax %x axis = 1 : tensor<4x8xf32> -> tensor<8xi32>
  func.return %a : tensor<8xi32>
}

// -----

func.func @dynamic_slice_offset_count(%x: tensor<8x64xf32>, %i: i64) -> tensor<1x64xf32> {
  // expected-error @+1 {{'red.dynamic_slice' op expected 2 offsets (input rank), got 1}}
  %r = red.dynamic_slice %x [%i] sizes = [1, 64] : (tensor<8x64xf32>, i64) -> tensor<1x64xf32>
  func.return %r : tensor<1x64xf32>
}

// -----

func.func @dynamic_slice_offset_type(%x: tensor<8x64xf32>, %i: f32, %j: i64) -> tensor<1x64xf32> {
  // expected-error @+1 {{'red.dynamic_slice' op offset #0 has type 'f32', expected an integer scalar or a 0-d integer tensor}}
  %r = red.dynamic_slice %x [%i, %j] sizes = [1, 64] : (tensor<8x64xf32>, f32, i64) -> tensor<1x64xf32>
  func.return %r : tensor<1x64xf32>
}

// -----

func.func @dynamic_slice_offset_tensor(%x: tensor<8x64xf32>, %i: tensor<2xi64>, %j: i64) -> tensor<1x64xf32> {
  // expected-error @+1 {{'red.dynamic_slice' op offset #0 has type 'tensor<2xi64>', expected an integer scalar or a 0-d integer tensor}}
  %r = red.dynamic_slice %x [%i, %j] sizes = [1, 64] : (tensor<8x64xf32>, tensor<2xi64>, i64) -> tensor<1x64xf32>
  func.return %r : tensor<1x64xf32>
}

// -----

func.func @dynamic_slice_size(%x: tensor<8x64xf32>, %i: i64) -> tensor<9x64xf32> {
  // expected-error @+1 {{'red.dynamic_slice' op size 9 of dimension 0 does not fit in 8 (expected 0 <= size <= dim)}}
  %r = red.dynamic_slice %x [%i, %i] sizes = [9, 64] : (tensor<8x64xf32>, i64, i64) -> tensor<9x64xf32>
  func.return %r : tensor<9x64xf32>
}

// -----

func.func @dynamic_slice_result(%x: tensor<8x64xf32>, %i: i64) -> tensor<2x64xf32> {
  // expected-error @+1 {{'red.dynamic_slice' op expected result type 'tensor<1x64xf32>', got 'tensor<2x64xf32>'}}
  %r = red.dynamic_slice %x [%i, %i] sizes = [1, 64] : (tensor<8x64xf32>, i64, i64) -> tensor<2x64xf32>
  func.return %r : tensor<2x64xf32>
}

// -----

func.func @dynamic_update_slice_too_big(%x: tensor<8x4xf32>, %u: tensor<3x5xf32>, %i: i64) -> tensor<8x4xf32> {
  // expected-error @+1 {{'red.dynamic_update_slice' op update of shape 3x5 does not fit in 8x4}}
  %r = red.dynamic_update_slice %x, %u [%i, %i] : (tensor<8x4xf32>, tensor<3x5xf32>, i64, i64) -> tensor<8x4xf32>
  func.return %r : tensor<8x4xf32>
}

// -----

func.func @dynamic_update_slice_element_type(%x: tensor<8x4xf32>, %u: tensor<1x4xf16>, %i: i64) -> tensor<8x4xf32> {
  // expected-error @+1 {{'red.dynamic_update_slice' op element types differ: input has 'f32', update has 'f16'}}
  %r = red.dynamic_update_slice %x, %u [%i, %i] : (tensor<8x4xf32>, tensor<1x4xf16>, i64, i64) -> tensor<8x4xf32>
  func.return %r : tensor<8x4xf32>
}

// -----

func.func @memo_key_not_invariant(%w: tensor<8x4xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'red.memo' op key #0 must be a 'red.invariant' argument of the public function the memo is in (only those stay unchanged between calls)}}
  %m = red.memo(%w) : (tensor<8x4xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<8x4xf32>):
    %t = red.transpose %a [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
    red.yield %t : tensor<4x8xf32>
  }
  func.return %m : tensor<4x8xf32>
}

// -----

func.func @memo_key_computed(%w: tensor<8x4xf32> {red.invariant}) -> tensor<4x8xf32> {
  %s = red.mul %w, %w : tensor<8x4xf32>, tensor<8x4xf32> -> tensor<8x4xf32>
  // expected-error @+1 {{'red.memo' op key #0 must be a 'red.invariant' argument of the public function the memo is in (only those stay unchanged between calls)}}
  %m = red.memo(%s) : (tensor<8x4xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<8x4xf32>):
    %t = red.transpose %a [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
    red.yield %t : tensor<4x8xf32>
  }
  func.return %m : tensor<4x8xf32>
}

// -----

func.func private @memo_in_private_function(%w: tensor<8x4xf32> {red.invariant}) -> tensor<4x8xf32> {
  // expected-error @+1 {{'red.memo' op key #0 must be a 'red.invariant' argument of the public function the memo is in (only those stay unchanged between calls)}}
  %m = red.memo(%w) : (tensor<8x4xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<8x4xf32>):
    %t = red.transpose %a [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
    red.yield %t : tensor<4x8xf32>
  }
  func.return %m : tensor<4x8xf32>
}

// -----

func.func @recursion_through_two_functions(%x: tensor<2xf32>) -> tensor<2xf32> {
  %y = func.call @helper(%x) : (tensor<2xf32>) -> tensor<2xf32>
  func.return %y : tensor<2xf32>
}
func.func private @helper(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'func.call' op recursion is not supported: @recursion_through_two_functions -> @helper -> @recursion_through_two_functions}}
  %y = func.call @recursion_through_two_functions(%x) : (tensor<2xf32>) -> tensor<2xf32>
  func.return %y : tensor<2xf32>
}

// -----

// Two dims named alike are equal; a matmul contracting two different names is refused.
func.func @contraction_of_different_symbols(%x: tensor<?x?xf32> {red.dims = ["seq", "hidden"]}, %w: tensor<?x4xf32> {red.dims = ["seq", ""]}) -> tensor<?x4xf32> {
  // expected-error @+1 {{'red.matmul' op contracts lhs dim 1 = hidden with rhs dim 0 = seq: different symbols, not proven equal}}
  %y = red.matmul %x, %w : tensor<?x?xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  func.return %y : tensor<?x4xf32>
}

// -----

// The symbol flows through the transposes to the joined dims.
func.func @concat_of_different_symbols(%x: tensor<?x3xf32> {red.dims = ["seq", ""]}, %w: tensor<?x3xf32> {red.dims = ["n", ""]}) -> tensor<6x?xf32> {
  %t = red.transpose %x [1, 0] : tensor<?x3xf32> -> tensor<3x?xf32>
  %u = red.transpose %w [1, 0] : tensor<?x3xf32> -> tensor<3x?xf32>
  // expected-error @+1 {{'red.concat' op joins operand #1 with dim 1 = n to operand #0's seq: different symbols, not proven equal}}
  %y = red.concat %t, %u axis = 0 : tensor<3x?xf32>, tensor<3x?xf32> -> tensor<6x?xf32>
  func.return %y : tensor<6x?xf32>
}

// -----

// expected-error @+1 {{argument #0: dim 1 is 4, not '?': it cannot be named 'hidden'}}
func.func @name_on_a_static_dim(%x: tensor<?x4xf32> {red.dims = ["seq", "hidden"]}) -> tensor<?x4xf32> {
  func.return %x : tensor<?x4xf32>
}

// -----

// expected-error @+1 {{argument #0: 'red.dims' names 1 dims, the type has 2}}
func.func @names_of_the_wrong_rank(%x: tensor<?x4xf32> {red.dims = ["seq"]}) -> tensor<?x4xf32> {
  func.return %x : tensor<?x4xf32>
}
