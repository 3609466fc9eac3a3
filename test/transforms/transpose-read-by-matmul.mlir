// RUN: red-opt %s -p memoize --split-input-file | filecheck %s --check-prefix=MEMO
// RUN: red-opt %s -p 'canonicalize{max-fold-bytes=16}' --split-input-file | filecheck %s --check-prefix=CANON

// A transpose of the last two dims of a constant whose one use is a matmul stays a transpose:
// the lowering reads the constant through swapped strides (the kernel library packs it once),
// so memoize caches no copy of it and canonicalize folds none above max-fold-bytes (24 bytes
// here), even where the constant dies with the fold.
// MEMO-LABEL:  func.func @no_copy_of_constant_read_as_transpose
// MEMO-SAME:     (%[[X:.*]]: tensor<4x1024xf32>)
// MEMO-NEXT:     %[[W:.*]] = red.constant dense<1.500000e+00> : tensor<512x1024xf32>
// MEMO-NEXT:     %[[WT:.*]] = red.transpose %[[W]] [1, 0] : tensor<512x1024xf32> -> tensor<1024x512xf32>
// MEMO-NEXT:     %[[Y:.*]] = red.matmul %[[X]], %[[WT]]
// MEMO-NEXT:     func.return %[[Y]]
func.func @no_copy_of_constant_read_as_transpose(%x: tensor<4x1024xf32>) -> tensor<4x512xf32> {
  %w = red.constant dense<1.5> : tensor<512x1024xf32>
  %wt = red.transpose %w [1, 0] : tensor<512x1024xf32> -> tensor<1024x512xf32>
  %y = red.matmul %x, %wt : tensor<4x1024xf32>, tensor<1024x512xf32> -> tensor<4x512xf32>
  func.return %y : tensor<4x512xf32>
}

// -----

// CANON-LABEL: func.func @no_fold_of_constant_read_as_transpose
// CANON-SAME:    (%[[X:.*]]: tensor<4x3xf32>)
// CANON:         %[[W:.*]] = red.constant dense<{{\[}}[1.000000e+00, 2.000000e+00, 3.000000e+00], [4.000000e+00, 5.000000e+00, 6.000000e+00]]> : tensor<2x3xf32>
// CANON-NEXT:    %[[WT:.*]] = red.transpose %[[W]] [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
// CANON-NEXT:    %[[Y:.*]] = red.matmul %[[X]], %[[WT]] : tensor<4x3xf32>, tensor<3x2xf32> -> tensor<4x2xf32>
// CANON-NEXT:    func.return %[[Y]]
func.func @no_fold_of_constant_read_as_transpose(%x: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %w = red.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %wt = red.transpose %w [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  %y = red.matmul %x, %wt : tensor<4x3xf32>, tensor<3x2xf32> -> tensor<4x2xf32>
  func.return %y : tensor<4x2xf32>
}

// -----

// A transpose with another use than the matmul is a copy anyway: canonicalize folds it (net of
// the constant it kills, within the budget) and memoize caches a large one.
// CANON-LABEL: func.func @transpose_with_two_uses
// CANON-NOT:     red.transpose
// CANON:         %[[WT:.*]] = red.constant dense<{{\[}}[1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>
// CANON-NOT:     red.transpose
// CANON:         red.matmul %{{.*}}, %[[WT]]
// CANON:         red.add %[[WT]], %[[WT]]
func.func @transpose_with_two_uses(%x: tensor<4x3xf32>) -> (tensor<4x2xf32>, tensor<3x2xf32>) {
  %w = red.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %wt = red.transpose %w [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  %y = red.matmul %x, %wt : tensor<4x3xf32>, tensor<3x2xf32> -> tensor<4x2xf32>
  %s = red.add %wt, %wt : tensor<3x2xf32>, tensor<3x2xf32> -> tensor<3x2xf32>
  func.return %y, %s : tensor<4x2xf32>, tensor<3x2xf32>
}

// -----

// MEMO-LABEL:  func.func @large_constant_transpose_with_two_uses
// MEMO:          %[[WT:.*]], %[[N:.*]] = red.memo() : () -> (tensor<1024x512xf32>, tensor<1024x512xf32>) {
// MEMO:            red.transpose
// MEMO:            red.neg
// MEMO:          red.matmul %{{.*}}, %[[WT]]
// MEMO:          func.return %{{.*}}, %[[N]]
func.func @large_constant_transpose_with_two_uses(%x: tensor<4x1024xf32>) -> (tensor<4x512xf32>, tensor<1024x512xf32>) {
  %w = red.constant dense<"0x0000C03F"> : tensor<512x1024xf32>
  %wt = red.transpose %w [1, 0] : tensor<512x1024xf32> -> tensor<1024x512xf32>
  %y = red.matmul %x, %wt : tensor<4x1024xf32>, tensor<1024x512xf32> -> tensor<4x512xf32>
  %n = red.neg %wt : tensor<1024x512xf32>
  func.return %y, %n : tensor<4x512xf32>, tensor<1024x512xf32>
}

// -----

// A transpose of a weight argument (not a constant) is still cached: there is no registered
// constant to pack from.
// MEMO-LABEL:  func.func @invariant_argument_transpose_is_cached
// MEMO:          %[[WT:.*]] = red.memo(%{{.*}}) : (tensor<16x8xf32>) -> tensor<8x16xf32>
// MEMO:          red.matmul %{{.*}}, %[[WT]]
func.func @invariant_argument_transpose_is_cached(%x: tensor<4x8xf32>, %w: tensor<16x8xf32> {red.invariant}) -> tensor<4x16xf32> {
  %wt = red.transpose %w [1, 0] : tensor<16x8xf32> -> tensor<8x16xf32>
  %y = red.matmul %x, %wt : tensor<4x8xf32>, tensor<8x16xf32> -> tensor<4x16xf32>
  func.return %y : tensor<4x16xf32>
}
