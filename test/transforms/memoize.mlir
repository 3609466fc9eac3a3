// RUN: red-opt %s -p memoize --split-input-file | filecheck %s
// RUN: red-opt %s -p 'memoize{min-flops=1000000}' --split-input-file | filecheck %s --check-prefix=MINFLOPS
// RUN: red-opt %s -p canonicalize --split-input-file | filecheck %s --check-prefix=CANON

// A weight transpose moves into a red.memo keyed on the weight: the memo's operand is the
// `red.invariant` argument, the region's block argument stands for it, and the transposed
// weight is yielded to the matmul.
// CHECK-LABEL: func.func @weight_transpose
// CHECK-SAME:    (%[[X:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<16x8xf32> {red.invariant})
// CHECK-NEXT:    %[[WT:.*]] = red.memo(%[[W]]) : (tensor<16x8xf32>) -> tensor<8x16xf32> {
// CHECK-NEXT:    ^bb0(%[[ARG:.*]]: tensor<16x8xf32>):
// CHECK-NEXT:      %[[T:.*]] = red.transpose %[[ARG]] [1, 0] : tensor<16x8xf32> -> tensor<8x16xf32>
// CHECK-NEXT:      red.yield %[[T]] : tensor<8x16xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[Y:.*]] = red.matmul %[[X]], %[[WT]] : tensor<4x8xf32>, tensor<8x16xf32> -> tensor<4x16xf32>
// CHECK-NEXT:    func.return %[[Y]]
// The transpose is too small for min-flops=1000000.
// MINFLOPS-LABEL: func.func @weight_transpose
// MINFLOPS-NOT:     red.memo
// MINFLOPS:         red.transpose
// MINFLOPS-NOT:     red.memo
// MINFLOPS:         func.return
func.func @weight_transpose(%x: tensor<4x8xf32>, %w: tensor<16x8xf32> {red.invariant}) -> tensor<4x16xf32> {
  %wt = red.transpose %w [1, 0] : tensor<16x8xf32> -> tensor<8x16xf32>
  %y = red.matmul %x, %wt : tensor<4x8xf32>, tensor<8x16xf32> -> tensor<4x16xf32>
  func.return %y : tensor<4x16xf32>
}

// -----

// A weight-only subgraph reading two weights and a constant: one memo keyed on both weights
// (in order of first use); the constant is cloned inside (red.memo is isolated from above).
// CHECK-LABEL: func.func @weight_only_subgraph
// CHECK-SAME:    (%[[X:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<8x8xf32> {red.invariant}, %[[G:.*]]: tensor<8xf32> {red.invariant})
// CHECK:         %[[WS:.*]] = red.memo(%[[W]], %[[G]]) : (tensor<8x8xf32>, tensor<8xf32>) -> tensor<8x8xf32> {
// CHECK-NEXT:    ^bb0(%[[BW:.*]]: tensor<8x8xf32>, %[[BG:.*]]: tensor<8xf32>):
// CHECK-NEXT:      %[[C:.*]] = red.constant dense<2.000000e+00> : tensor<f32>
// CHECK-NEXT:      %[[S:.*]] = red.mul %[[BW]], %[[C]] : tensor<8x8xf32>, tensor<f32> -> tensor<8x8xf32>
// CHECK-NEXT:      %[[SG:.*]] = red.mul %[[S]], %[[BG]] : tensor<8x8xf32>, tensor<8xf32> -> tensor<8x8xf32>
// CHECK-NEXT:      red.yield %[[SG]] : tensor<8x8xf32>
// CHECK-NEXT:    }
// CHECK-NOT:     red.mul
// CHECK:         %[[Y:.*]] = red.matmul %[[X]], %[[WS]] : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
// CHECK-NEXT:    func.return %[[Y]]
func.func @weight_only_subgraph(%x: tensor<4x8xf32>, %w: tensor<8x8xf32> {red.invariant}, %g: tensor<8xf32> {red.invariant}) -> tensor<4x8xf32> {
  %c = red.constant dense<2.0> : tensor<f32>
  %s = red.mul %w, %c : tensor<8x8xf32>, tensor<f32> -> tensor<8x8xf32>
  %ws = red.mul %s, %g : tensor<8x8xf32>, tensor<8xf32> -> tensor<8x8xf32>
  %y = red.matmul %x, %ws : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  func.return %y : tensor<4x8xf32>
}

// -----

// Tied embeddings: the embedding gather depends on the token ids and stays outside; the
// LM head's transpose of the same table is memoized.
// CHECK-LABEL: func.func @tied_lm_head
// CHECK-SAME:    (%[[IDS:.*]]: tensor<4xi64>, %[[WTE:.*]]: tensor<16x8xf32> {red.invariant})
// CHECK-NEXT:    %[[H:.*]] = red.gather %[[WTE]], %[[IDS]] axis = 0
// CHECK-NEXT:    %[[T:.*]] = red.tanh %[[H]] : tensor<4x8xf32>
// CHECK-NEXT:    %[[WT:.*]] = red.memo(%[[WTE]]) : (tensor<16x8xf32>) -> tensor<8x16xf32> {
// CHECK-NEXT:    ^bb0(%[[ARG:.*]]: tensor<16x8xf32>):
// CHECK-NEXT:      %[[TR:.*]] = red.transpose %[[ARG]] [1, 0] : tensor<16x8xf32> -> tensor<8x16xf32>
// CHECK-NEXT:      red.yield %[[TR]] : tensor<8x16xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[L:.*]] = red.matmul %[[T]], %[[WT]] : tensor<4x8xf32>, tensor<8x16xf32> -> tensor<4x16xf32>
// CHECK-NEXT:    func.return %[[L]]
func.func @tied_lm_head(%ids: tensor<4xi64>, %wte: tensor<16x8xf32> {red.invariant}) -> tensor<4x16xf32> {
  %h = red.gather %wte, %ids axis = 0 : tensor<16x8xf32>, tensor<4xi64> -> tensor<4x8xf32>
  %t = red.tanh %h : tensor<4x8xf32>
  %wt = red.transpose %wte [1, 0] : tensor<16x8xf32> -> tensor<8x16xf32>
  %l = red.matmul %t, %wt : tensor<4x8xf32>, tensor<8x16xf32> -> tensor<4x16xf32>
  func.return %l : tensor<4x16xf32>
}

// -----

// One group, two values used outside it: one memo with two results; the transposed weight
// has several uses (inside the group and outside).
// CHECK-LABEL: func.func @group_with_two_outputs
// CHECK-SAME:    (%[[X:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<8x8xf32> {red.invariant})
// CHECK-NEXT:    %[[WT:.*]], %[[E:.*]] = red.memo(%[[W]]) : (tensor<8x8xf32>) -> (tensor<8x8xf32>, tensor<8x8xf32>) {
// CHECK-NEXT:    ^bb0(%[[ARG:.*]]: tensor<8x8xf32>):
// CHECK-NEXT:      %[[T:.*]] = red.transpose %[[ARG]] [1, 0]
// CHECK-NEXT:      %[[EX:.*]] = red.exp %[[T]]
// CHECK-NEXT:      red.yield %[[T]], %[[EX]] : tensor<8x8xf32>, tensor<8x8xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[A:.*]] = red.matmul %[[X]], %[[WT]]
// CHECK-NEXT:    %[[B:.*]] = red.matmul %[[X]], %[[E]]
// CHECK-NEXT:    func.return %[[A]], %[[B]]
func.func @group_with_two_outputs(%x: tensor<4x8xf32>, %w: tensor<8x8xf32> {red.invariant}) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %wt = red.transpose %w [1, 0] : tensor<8x8xf32> -> tensor<8x8xf32>
  %e = red.exp %wt : tensor<8x8xf32>
  %a = red.matmul %x, %wt : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %b = red.matmul %x, %e : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  func.return %a, %b : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Work that depends on a varying input never moves, even when it also reads weights: only
// the weight transpose is cached, the matmul and the bias add (reading %x) stay outside.
// CHECK-LABEL: func.func @no_memoize_varying_work
// CHECK-SAME:    (%[[X:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<8x8xf32> {red.invariant}, %[[B:.*]]: tensor<8xf32> {red.invariant})
// CHECK-NEXT:    %[[WT:.*]] = red.memo(%[[W]])
// CHECK-NEXT:    ^bb0(%[[ARG:.*]]: tensor<8x8xf32>):
// CHECK-NEXT:      %[[T:.*]] = red.transpose %[[ARG]] [1, 0]
// CHECK-NEXT:      red.yield %[[T]]
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[Y:.*]] = red.matmul %[[X]], %[[WT]]
// CHECK-NEXT:    %[[Z:.*]] = red.add %[[Y]], %[[B]]
// CHECK-NEXT:    func.return %[[Z]]
func.func @no_memoize_varying_work(%x: tensor<4x8xf32>, %w: tensor<8x8xf32> {red.invariant}, %b: tensor<8xf32> {red.invariant}) -> tensor<4x8xf32> {
  %wt = red.transpose %w [1, 0] : tensor<8x8xf32> -> tensor<8x8xf32>
  %y = red.matmul %x, %wt : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %z = red.add %y, %b : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  func.return %z : tensor<4x8xf32>
}

// -----

// Without `red.invariant` the weight varies: nothing is cached.
// CHECK-LABEL: func.func @no_memoize_without_invariant_attr
// CHECK-NOT:     red.memo
// CHECK:         red.transpose
// CHECK-NOT:     red.memo
// CHECK:         func.return
func.func @no_memoize_without_invariant_attr(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> tensor<4x8xf32> {
  %wt = red.transpose %w [1, 0] : tensor<8x8xf32> -> tensor<8x8xf32>
  %y = red.matmul %x, %wt : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  func.return %y : tensor<4x8xf32>
}

// -----

// Constant-only work small enough to fold is left to canonicalize, not cached.
// CHECK-LABEL: func.func @no_memoize_constant_only
// CHECK-SAME:    (%[[X:.*]]: tensor<4x8xf32>)
// CHECK-NEXT:    %[[C:.*]] = red.constant dense<1.500000e+00> : tensor<8x8xf32>
// CHECK-NEXT:    %[[E:.*]] = red.exp %[[C]] : tensor<8x8xf32>
// CHECK-NEXT:    %[[Y:.*]] = red.matmul %[[X]], %[[E]]
// CHECK-NEXT:    func.return %[[Y]]
func.func @no_memoize_constant_only(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %c = red.constant dense<1.5> : tensor<8x8xf32>
  %e = red.exp %c : tensor<8x8xf32>
  %y = red.matmul %x, %e : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  func.return %y : tensor<4x8xf32>
}

// -----

// A weight product worth 4.2M FLOPs is cached even with min-flops=1000000; the 64-element
// transpose next to it is not.
// MINFLOPS-LABEL: func.func @min_flops_threshold
// MINFLOPS-SAME:    (%[[X:.*]]: tensor<4x128xf32>, %[[W:.*]]: tensor<128x128xf32> {red.invariant}, %[[V:.*]]: tensor<128x128xf32> {red.invariant}, %[[U:.*]]: tensor<8x8xf32> {red.invariant})
// MINFLOPS-NEXT:    %[[WV:.*]] = red.memo(%[[W]], %[[V]])
// MINFLOPS-NEXT:    ^bb0(%[[BW:.*]]: tensor<128x128xf32>, %[[BV:.*]]: tensor<128x128xf32>):
// MINFLOPS-NEXT:      %[[P:.*]] = red.matmul %[[BW]], %[[BV]]
// MINFLOPS-NEXT:      red.yield %[[P]]
// MINFLOPS-NEXT:    }
// MINFLOPS-NEXT:    %[[Y:.*]] = red.matmul %[[X]], %[[WV]]
// MINFLOPS-NEXT:    %[[UT:.*]] = red.transpose %[[U]] [1, 0]
// MINFLOPS-NEXT:    func.return %[[Y]], %[[UT]]
// With the default threshold both groups are cached, separately (they share no value).
// CHECK-LABEL: func.func @min_flops_threshold
// CHECK:         red.memo
// CHECK:         red.matmul
// CHECK:         red.yield
// CHECK:         red.memo
// CHECK:         red.transpose
// CHECK:         red.yield
// CHECK:         func.return
func.func @min_flops_threshold(%x: tensor<4x128xf32>, %w: tensor<128x128xf32> {red.invariant}, %v: tensor<128x128xf32> {red.invariant}, %u: tensor<8x8xf32> {red.invariant}) -> (tensor<4x128xf32>, tensor<8x8xf32>) {
  %wv = red.matmul %w, %v : tensor<128x128xf32>, tensor<128x128xf32> -> tensor<128x128xf32>
  %y = red.matmul %x, %wv : tensor<4x128xf32>, tensor<128x128xf32> -> tensor<4x128xf32>
  %ut = red.transpose %u [1, 0] : tensor<8x8xf32> -> tensor<8x8xf32>
  func.return %y, %ut : tensor<4x128xf32>, tensor<8x8xf32>
}

// -----

// Inside a loop body the weight transpose is cached too (computed once, not per iteration);
// the loop-carried matmul stays.
// CHECK-LABEL: func.func @memo_in_loop_body
// CHECK-SAME:    (%[[X:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<8x8xf32> {red.invariant})
// CHECK:         scf.for
// CHECK-SAME:      iter_args(%[[H:.*]] = %[[X]])
// CHECK-NEXT:      %[[WT:.*]] = red.memo(%[[W]])
// CHECK-NEXT:      ^bb0(%[[ARG:.*]]: tensor<8x8xf32>):
// CHECK-NEXT:        %[[T:.*]] = red.transpose %[[ARG]] [1, 0]
// CHECK-NEXT:        red.yield %[[T]]
// CHECK-NEXT:      }
// CHECK-NEXT:      %[[N:.*]] = red.matmul %[[H]], %[[WT]]
// CHECK-NEXT:      scf.yield %[[N]]
func.func @memo_in_loop_body(%x: tensor<4x8xf32>, %w: tensor<8x8xf32> {red.invariant}) -> tensor<4x8xf32> {
  %lb = arith.constant 0 : index
  %ub = arith.constant 3 : index
  %st = arith.constant 1 : index
  %r = scf.for %i = %lb to %ub step %st iter_args(%h = %x) -> (tensor<4x8xf32>) {
    %wt = red.transpose %w [1, 0] : tensor<8x8xf32> -> tensor<8x8xf32>
    %n = red.matmul %h, %wt : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
    scf.yield %n : tensor<4x8xf32>
  }
  func.return %r : tensor<4x8xf32>
}

// -----

// Canonicalization: a memo result that is just a key reads the key directly; the result
// and then the key it no longer needs are dropped.
// CANON-LABEL: func.func @memo_yields_key
// CANON-SAME:    (%[[X:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<8x8xf32> {red.invariant})
// CANON-NEXT:    %[[T:.*]] = red.memo(%[[W]]) : (tensor<8x8xf32>) -> tensor<8x8xf32> {
// CANON-NEXT:    ^bb0(%[[ARG:.*]]: tensor<8x8xf32>):
// CANON-NEXT:      %[[TR:.*]] = red.transpose %[[ARG]] [1, 0]
// CANON-NEXT:      red.yield %[[TR]] : tensor<8x8xf32>
// CANON-NEXT:    }
// CANON-NEXT:    %[[Y:.*]] = red.matmul %[[X]], %[[W]]
// CANON-NEXT:    %[[Z:.*]] = red.matmul %[[Y]], %[[T]]
// CANON-NEXT:    func.return %[[Z]]
func.func @memo_yields_key(%x: tensor<4x8xf32>, %w: tensor<8x8xf32> {red.invariant}) -> tensor<4x8xf32> {
  %k, %t = red.memo(%w) : (tensor<8x8xf32>) -> (tensor<8x8xf32>, tensor<8x8xf32>) {
  ^bb0(%a: tensor<8x8xf32>):
    %b = red.transpose %a [1, 0] : tensor<8x8xf32> -> tensor<8x8xf32>
    red.yield %a, %b : tensor<8x8xf32>, tensor<8x8xf32>
  }
  %y = red.matmul %x, %k : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %z = red.matmul %y, %t : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  func.return %z : tensor<4x8xf32>
}

// -----

// A memo result that is a constant is read from a copy of the constant outside.
// CANON-LABEL: func.func @memo_yields_constant
// CANON-SAME:    (%[[X:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<8x8xf32> {red.invariant})
// CANON-NEXT:    %[[K:.*]] = red.constant dense<3.000000e+00> : tensor<8xf32>
// CANON-NEXT:    %[[T:.*]] = red.memo(%[[W]]) : (tensor<8x8xf32>) -> tensor<8x8xf32> {
// CANON-NEXT:    ^bb0(%[[ARG:.*]]: tensor<8x8xf32>):
// CANON-NEXT:      %[[KI:.*]] = red.constant dense<3.000000e+00> : tensor<8xf32>
// CANON-NEXT:      %[[M:.*]] = red.mul %[[ARG]], %[[KI]]
// CANON-NEXT:      red.yield %[[M]] : tensor<8x8xf32>
// CANON-NEXT:    }
// CANON-NEXT:    %[[Y:.*]] = red.matmul %[[X]], %[[T]]
// CANON-NEXT:    %[[Z:.*]] = red.add %[[Y]], %[[K]]
// CANON-NEXT:    func.return %[[Z]]
func.func @memo_yields_constant(%x: tensor<4x8xf32>, %w: tensor<8x8xf32> {red.invariant}) -> tensor<4x8xf32> {
  %c, %t = red.memo(%w) : (tensor<8x8xf32>) -> (tensor<8xf32>, tensor<8x8xf32>) {
  ^bb0(%a: tensor<8x8xf32>):
    %k = red.constant dense<3.0> : tensor<8xf32>
    %b = red.mul %a, %k : tensor<8x8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    red.yield %k, %b : tensor<8xf32>, tensor<8x8xf32>
  }
  %y = red.matmul %x, %t : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %z = red.add %y, %c : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  func.return %z : tensor<4x8xf32>
}

// -----

// An unused result goes with the work only it needed, then the key only that work read;
// a key never read inside goes too.
// CANON-LABEL: func.func @memo_unused_result_and_keys
// CANON-SAME:    (%[[X:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<8x8xf32> {red.invariant}, %[[V:.*]]: tensor<8x8xf32> {red.invariant}, %[[U:.*]]: tensor<8xf32> {red.invariant})
// CANON-NEXT:    %[[P:.*]] = red.memo(%[[W]]) : (tensor<8x8xf32>) -> tensor<8x8xf32> {
// CANON-NEXT:    ^bb0(%[[ARG:.*]]: tensor<8x8xf32>):
// CANON-NEXT:      %[[TA:.*]] = red.transpose %[[ARG]] [1, 0]
// CANON-NEXT:      red.yield %[[TA]] : tensor<8x8xf32>
// CANON-NEXT:    }
// CANON-NOT:     red.exp
// CANON:         %[[Y:.*]] = red.matmul %[[X]], %[[P]]
// CANON-NEXT:    func.return %[[Y]]
func.func @memo_unused_result_and_keys(%x: tensor<4x8xf32>, %w: tensor<8x8xf32> {red.invariant}, %v: tensor<8x8xf32> {red.invariant}, %u: tensor<8xf32> {red.invariant}) -> tensor<4x8xf32> {
  %p, %q = red.memo(%w, %v, %u) : (tensor<8x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> (tensor<8x8xf32>, tensor<8x8xf32>) {
  ^bb0(%a: tensor<8x8xf32>, %b: tensor<8x8xf32>, %c: tensor<8xf32>):
    %ta = red.transpose %a [1, 0] : tensor<8x8xf32> -> tensor<8x8xf32>
    %eb = red.exp %b : tensor<8x8xf32>
    red.yield %ta, %eb : tensor<8x8xf32>, tensor<8x8xf32>
  }
  %y = red.matmul %x, %p : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  func.return %y : tensor<4x8xf32>
}

// -----

// A memo none of whose results is used disappears.
// CANON-LABEL: func.func @memo_all_results_unused
// CANON-SAME:    (%[[X:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<8x8xf32> {red.invariant})
// CANON-NEXT:    func.return %[[X]]
func.func @memo_all_results_unused(%x: tensor<4x8xf32>, %w: tensor<8x8xf32> {red.invariant}) -> tensor<4x8xf32> {
  %p = red.memo(%w) : (tensor<8x8xf32>) -> tensor<8x8xf32> {
  ^bb0(%a: tensor<8x8xf32>):
    %ta = red.transpose %a [1, 0] : tensor<8x8xf32> -> tensor<8x8xf32>
    red.yield %ta : tensor<8x8xf32>
  }
  func.return %x : tensor<4x8xf32>
}

// -----

// A memo whose keys and results are all needed stays as it is.
// CANON-LABEL: func.func @no_canonicalize_needed_memo
// CANON-SAME:    (%[[X:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<8x8xf32> {red.invariant}, %[[B:.*]]: tensor<8xf32> {red.invariant})
// CANON-NEXT:    %[[T:.*]], %[[E:.*]] = red.memo(%[[W]], %[[B]]) : (tensor<8x8xf32>, tensor<8xf32>) -> (tensor<8x8xf32>, tensor<8xf32>) {
// CANON-NEXT:    ^bb0(%[[BW:.*]]: tensor<8x8xf32>, %[[BB:.*]]: tensor<8xf32>):
// CANON-NEXT:      %[[TR:.*]] = red.transpose %[[BW]] [1, 0]
// CANON-NEXT:      %[[EX:.*]] = red.exp %[[BB]]
// CANON-NEXT:      red.yield %[[TR]], %[[EX]] : tensor<8x8xf32>, tensor<8xf32>
// CANON-NEXT:    }
// CANON-NEXT:    %[[Y:.*]] = red.matmul %[[X]], %[[T]]
// CANON-NEXT:    %[[Z:.*]] = red.add
// CANON-NEXT:    func.return %[[Z]]
func.func @no_canonicalize_needed_memo(%x: tensor<4x8xf32>, %w: tensor<8x8xf32> {red.invariant}, %b: tensor<8xf32> {red.invariant}) -> tensor<4x8xf32> {
  %t, %e = red.memo(%w, %b) : (tensor<8x8xf32>, tensor<8xf32>) -> (tensor<8x8xf32>, tensor<8xf32>) {
  ^bb0(%a: tensor<8x8xf32>, %c: tensor<8xf32>):
    %ta = red.transpose %a [1, 0] : tensor<8x8xf32> -> tensor<8x8xf32>
    %ec = red.exp %c : tensor<8xf32>
    red.yield %ta, %ec : tensor<8x8xf32>, tensor<8xf32>
  }
  %y = red.matmul %x, %t : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %z = red.add %y, %e : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  func.return %z : tensor<4x8xf32>
}
