// RUN: red-opt %s -p canonicalize,incrementalize --split-input-file 2>/dev/null | filecheck %s
// RUN: red-opt %s -p canonicalize,incrementalize --split-input-file 2>&1 >/dev/null | filecheck %s --check-prefix=REMARK

// A one-layer, one-head decoder under a naive greedy loop over T = 6 positions after a
// 2-token prompt: the prefill computes the keys and values of prompt row 0 (rows [0, P-1)),
// each step computes row t-1 only, writes its key and value into the carried state at t-1,
// and attends over the whole state with row t-1 of the mask.
// CHECK-LABEL: func.func @generate
// CHECK-SAME:    (%[[PROMPT:.*]]: tensor<1x2xi64>, %[[WTE:.*]]: tensor<8x4xf32> {red.invariant}, %[[WQ:.*]]: tensor<4x4xf32> {red.invariant}, %[[WK:.*]]: tensor<4x4xf32> {red.invariant}, %[[WV:.*]]: tensor<4x4xf32> {red.invariant})
// CHECK:         %[[TOKENS0:.*]] = red.concat %[[PROMPT]]
// CHECK:         %[[MASK:.*]] = red.constant dense<{{\[\[}}true, false, false, false, false, false], {{.*}}> : tensor<6x6xi1>
// CHECK:         %[[P0:.*]] = red.slice %[[TOKENS0]] [0, 0] [1, 1] [1, 1] : tensor<1x6xi64> -> tensor<1x1xi64>
// CHECK:         %[[X0:.*]] = red.gather %[[WTE]], %{{.*}} axis = 0 : tensor<8x4xf32>, tensor<1xi64> -> tensor<1x4xf32>
// CHECK-NEXT:    %[[K0:.*]] = red.matmul %[[X0]], %[[WK]] : tensor<1x4xf32>, tensor<4x4xf32> -> tensor<1x4xf32>
// CHECK-NEXT:    %[[KZ:.*]] = red.constant dense<0.000000e+00> : tensor<5x4xf32>
// CHECK-NEXT:    %[[KINIT:.*]] = red.concat %[[K0]], %[[KZ]] axis = 0 : tensor<1x4xf32>, tensor<5x4xf32> -> tensor<6x4xf32>
// CHECK-NEXT:    %[[V0:.*]] = red.matmul %[[X0]], %[[WV]]
// CHECK:         %[[VINIT:.*]] = red.concat %[[V0]], %{{.*}} axis = 0
// CHECK-NEXT:    %[[OUT:.*]], %{{.*}}, %{{.*}} = scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[TOK:.*]] = %[[TOKENS0]], %[[KS:.*]] = %[[KINIT]], %[[VS:.*]] = %[[VINIT]]) -> (tensor<1x6xi64>, tensor<6x4xf32>, tensor<6x4xf32>) {
// CHECK:           %[[PREV:.*]] = arith.subi %[[T]], %{{.*}} : index
// CHECK:           %[[ROW:.*]] = red.dynamic_slice %[[TOK]][%{{.*}}, %[[PREV]]] sizes = [1, 1]
// CHECK:           %[[X:.*]] = red.gather %[[WTE]], %{{.*}} : tensor<8x4xf32>, tensor<1xi64> -> tensor<1x4xf32>
// CHECK-NEXT:      %[[Q:.*]] = red.matmul %[[X]], %[[WQ]] : tensor<1x4xf32>, tensor<4x4xf32> -> tensor<1x4xf32>
// CHECK-NEXT:      %[[K:.*]] = red.matmul %[[X]], %[[WK]] : tensor<1x4xf32>, tensor<4x4xf32> -> tensor<1x4xf32>
// CHECK-NEXT:      %[[KNEW:.*]] = red.dynamic_update_slice %[[KS]], %[[K]][%[[PREV]], %{{.*}}] : (tensor<6x4xf32>, tensor<1x4xf32>, index, index) -> tensor<6x4xf32>
// CHECK-NEXT:      %[[V:.*]] = red.matmul %[[X]], %[[WV]] : tensor<1x4xf32>, tensor<4x4xf32> -> tensor<1x4xf32>
// CHECK-NEXT:      %[[VNEW:.*]] = red.dynamic_update_slice %[[VS]], %[[V]][%[[PREV]], %{{.*}}]
// CHECK:           %[[KT:.*]] = red.transpose %[[KNEW]] [1, 0] : tensor<6x4xf32> -> tensor<4x6xf32>
// CHECK-NEXT:      %[[S:.*]] = red.matmul %[[Q]], %[[KT]] : tensor<1x4xf32>, tensor<4x6xf32> -> tensor<1x6xf32>
// CHECK-NEXT:      %[[MROW:.*]] = red.dynamic_slice %[[MASK]][%[[PREV]], %{{.*}}] sizes = [1, 6] : (tensor<6x6xi1>, index, index) -> tensor<1x6xi1>
// CHECK-NEXT:      %[[SM:.*]] = red.select %[[MROW]], %[[S]], %{{.*}} : tensor<1x6xi1>, tensor<1x6xf32>, tensor<f32> -> tensor<1x6xf32>
// CHECK-NEXT:      %[[PR:.*]] = red.softmax %[[SM]] axis = 1 : tensor<1x6xf32>
// CHECK-NEXT:      %{{.*}} = red.matmul %[[PR]], %[[VNEW]] : tensor<1x6xf32>, tensor<6x4xf32> -> tensor<1x4xf32>
// CHECK:           %[[NEXT:.*]] = red.argmax %{{.*}} axis = 2 : tensor<1x1x8xf32> -> tensor<1x1xi64>
// CHECK-NEXT:      %[[NEW:.*]] = red.dynamic_update_slice %[[TOK]], %[[NEXT]][%{{.*}}, %[[T]]]
// CHECK-NEXT:      scf.yield %[[NEW]], %[[KNEW]], %[[VNEW]] : tensor<1x6xi64>, tensor<6x4xf32>, tensor<6x4xf32>
// CHECK-NEXT:    } {red.incremental}
// CHECK-NEXT:    func.return %[[OUT]] : tensor<1x6xi64>
func.func @generate(%prompt: tensor<1x2xi64>, %wte: tensor<8x4xf32> {red.invariant}, %wq: tensor<4x4xf32> {red.invariant}, %wk: tensor<4x4xf32> {red.invariant}, %wv: tensor<4x4xf32> {red.invariant}) -> tensor<1x6xi64> {
  %pad = red.constant dense<0> : tensor<1x4xi64>
  %tokens0 = red.concat %prompt, %pad axis = 1 : tensor<1x2xi64>, tensor<1x4xi64> -> tensor<1x6xi64>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c6 = arith.constant 6 : index
  %out = scf.for %t = %c2 to %c6 step %c1 iter_args(%tok = %tokens0) -> (tensor<1x6xi64>) {
    %ids = red.reshape %tok : tensor<1x6xi64> -> tensor<6xi64>
    %x = red.gather %wte, %ids axis = 0 : tensor<8x4xf32>, tensor<6xi64> -> tensor<6x4xf32>
    %q = red.matmul %x, %wq : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %k = red.matmul %x, %wk : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %v = red.matmul %x, %wv : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %kt = red.transpose %k [1, 0] : tensor<6x4xf32> -> tensor<4x6xf32>
    %s = red.matmul %q, %kt : tensor<6x4xf32>, tensor<4x6xf32> -> tensor<6x6xf32>
    %rows = red.iota dim = 0 : tensor<6x6xi64>
    %cols = red.iota dim = 1 : tensor<6x6xi64>
    %causal = red.le %cols, %rows : tensor<6x6xi64>, tensor<6x6xi64> -> tensor<6x6xi1>
    %fill = red.constant dense<-1.0e+09> : tensor<f32>
    %masked = red.select %causal, %s, %fill : tensor<6x6xi1>, tensor<6x6xf32>, tensor<f32> -> tensor<6x6xf32>
    %p = red.softmax %masked axis = 1 : tensor<6x6xf32>
    %a = red.matmul %p, %v : tensor<6x6xf32>, tensor<6x4xf32> -> tensor<6x4xf32>
    %h = red.add %x, %a : tensor<6x4xf32>, tensor<6x4xf32> -> tensor<6x4xf32>
    %wt = red.transpose %wte [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
    %logits = red.matmul %h, %wt : tensor<6x4xf32>, tensor<4x8xf32> -> tensor<6x8xf32>
    %l3 = red.reshape %logits : tensor<6x8xf32> -> tensor<1x6x8xf32>
    %tm1 = arith.subi %t, %c1 : index
    %row = red.dynamic_slice %l3 [%c0, %tm1, %c0] sizes = [1, 1, 8] : (tensor<1x6x8xf32>, index, index, index) -> tensor<1x1x8xf32>
    %next = red.argmax %row axis = 2 : tensor<1x1x8xf32> -> tensor<1x1xi64>
    %new = red.dynamic_update_slice %tok, %next [%c0, %t] : (tensor<1x6xi64>, tensor<1x1xi64>, index, index) -> tensor<1x6xi64>
    scf.yield %new : tensor<1x6xi64>
  }
  func.return %out : tensor<1x6xi64>
}


// -----

// Attention without a mask reads later positions: the loop stays as it is.
// CHECK-LABEL: func.func @no_bidirectional
// CHECK:         scf.for %{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (tensor<1x6xi64>) {
// CHECK-NOT:     red.incremental
// REMARK:        incrementalize.mlir:[[# @LINE + 20]]:5: remark: incrementalize: decode loop left as is: attention reads later positions: its scores are not causally masked (a bidirectional or missing mask)
func.func @no_bidirectional(%prompt: tensor<1x2xi64>, %wte: tensor<8x4xf32> {red.invariant}, %wq: tensor<4x4xf32> {red.invariant}, %wk: tensor<4x4xf32> {red.invariant}, %wv: tensor<4x4xf32> {red.invariant}) -> tensor<1x6xi64> {
  %pad = red.constant dense<0> : tensor<1x4xi64>
  %tokens0 = red.concat %prompt, %pad axis = 1 : tensor<1x2xi64>, tensor<1x4xi64> -> tensor<1x6xi64>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c6 = arith.constant 6 : index
  %out = scf.for %t = %c2 to %c6 step %c1 iter_args(%tok = %tokens0) -> (tensor<1x6xi64>) {
    %ids = red.reshape %tok : tensor<1x6xi64> -> tensor<6xi64>
    %x = red.gather %wte, %ids axis = 0 : tensor<8x4xf32>, tensor<6xi64> -> tensor<6x4xf32>
    %q = red.matmul %x, %wq : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %k = red.matmul %x, %wk : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %v = red.matmul %x, %wv : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %kt = red.transpose %k [1, 0] : tensor<6x4xf32> -> tensor<4x6xf32>
    %s = red.matmul %q, %kt : tensor<6x4xf32>, tensor<4x6xf32> -> tensor<6x6xf32>
    %rows = red.iota dim = 0 : tensor<6x6xi64>
    %cols = red.iota dim = 1 : tensor<6x6xi64>
    %causal = red.le %cols, %rows : tensor<6x6xi64>, tensor<6x6xi64> -> tensor<6x6xi1>
    %fill = red.constant dense<-1.0e+09> : tensor<f32>
    %p = red.softmax %s axis = 1 : tensor<6x6xf32>
    %a = red.matmul %p, %v : tensor<6x6xf32>, tensor<6x4xf32> -> tensor<6x4xf32>
    %h = red.add %x, %a : tensor<6x4xf32>, tensor<6x4xf32> -> tensor<6x4xf32>
    %wt = red.transpose %wte [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
    %logits = red.matmul %h, %wt : tensor<6x4xf32>, tensor<4x8xf32> -> tensor<6x8xf32>
    %l3 = red.reshape %logits : tensor<6x8xf32> -> tensor<1x6x8xf32>
    %tm1 = arith.subi %t, %c1 : index
    %row = red.dynamic_slice %l3 [%c0, %tm1, %c0] sizes = [1, 1, 8] : (tensor<1x6x8xf32>, index, index, index) -> tensor<1x1x8xf32>
    %next = red.argmax %row axis = 2 : tensor<1x1x8xf32> -> tensor<1x1xi64>
    %new = red.dynamic_update_slice %tok, %next [%c0, %t] : (tensor<1x6xi64>, tensor<1x1xi64>, index, index) -> tensor<1x6xi64>
    scf.yield %new : tensor<1x6xi64>
  }
  func.return %out : tensor<1x6xi64>
}


// -----

// A mask that lets row i see position i+1 is not causal.
// CHECK-LABEL: func.func @no_mask_keeps_a_later_position
// CHECK-NOT:     red.incremental
// REMARK:        incrementalize.mlir:[[# @LINE + 23]]:5: remark: incrementalize: decode loop left as is: attention reads later positions: its scores are not causally masked (a bidirectional or missing mask)
func.func @no_mask_keeps_a_later_position(%prompt: tensor<1x2xi64>, %wte: tensor<8x4xf32> {red.invariant}, %wq: tensor<4x4xf32> {red.invariant}, %wk: tensor<4x4xf32> {red.invariant}, %wv: tensor<4x4xf32> {red.invariant}) -> tensor<1x6xi64> {
  %pad = red.constant dense<0> : tensor<1x4xi64>
  %tokens0 = red.concat %prompt, %pad axis = 1 : tensor<1x2xi64>, tensor<1x4xi64> -> tensor<1x6xi64>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c6 = arith.constant 6 : index
  %out = scf.for %t = %c2 to %c6 step %c1 iter_args(%tok = %tokens0) -> (tensor<1x6xi64>) {
    %ids = red.reshape %tok : tensor<1x6xi64> -> tensor<6xi64>
    %x = red.gather %wte, %ids axis = 0 : tensor<8x4xf32>, tensor<6xi64> -> tensor<6x4xf32>
    %q = red.matmul %x, %wq : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %k = red.matmul %x, %wk : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %v = red.matmul %x, %wv : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %kt = red.transpose %k [1, 0] : tensor<6x4xf32> -> tensor<4x6xf32>
    %s = red.matmul %q, %kt : tensor<6x4xf32>, tensor<4x6xf32> -> tensor<6x6xf32>
    %rows = red.iota dim = 0 : tensor<6x6xi64>
    %cols = red.iota dim = 1 : tensor<6x6xi64>
    %one = red.constant dense<1> : tensor<i64>
    %next_row = red.add %rows, %one : tensor<6x6xi64>, tensor<i64> -> tensor<6x6xi64>
    %causal = red.le %cols, %next_row : tensor<6x6xi64>, tensor<6x6xi64> -> tensor<6x6xi1>
    %fill = red.constant dense<-1.0e+09> : tensor<f32>
    %masked = red.select %causal, %s, %fill : tensor<6x6xi1>, tensor<6x6xf32>, tensor<f32> -> tensor<6x6xf32>
    %p = red.softmax %masked axis = 1 : tensor<6x6xf32>
    %a = red.matmul %p, %v : tensor<6x6xf32>, tensor<6x4xf32> -> tensor<6x4xf32>
    %h = red.add %x, %a : tensor<6x4xf32>, tensor<6x4xf32> -> tensor<6x4xf32>
    %wt = red.transpose %wte [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
    %logits = red.matmul %h, %wt : tensor<6x4xf32>, tensor<4x8xf32> -> tensor<6x8xf32>
    %l3 = red.reshape %logits : tensor<6x8xf32> -> tensor<1x6x8xf32>
    %tm1 = arith.subi %t, %c1 : index
    %row = red.dynamic_slice %l3 [%c0, %tm1, %c0] sizes = [1, 1, 8] : (tensor<1x6x8xf32>, index, index, index) -> tensor<1x1x8xf32>
    %next = red.argmax %row axis = 2 : tensor<1x1x8xf32> -> tensor<1x1xi64>
    %new = red.dynamic_update_slice %tok, %next [%c0, %t] : (tensor<1x6xi64>, tensor<1x1xi64>, index, index) -> tensor<1x6xi64>
    scf.yield %new : tensor<1x6xi64>
  }
  func.return %out : tensor<1x6xi64>
}


// -----

// A mean over all positions (a "bag of words" term) makes every row depend on later
// tokens.
// CHECK-LABEL: func.func @no_reduction_over_the_sequence
// CHECK-NOT:     red.incremental
// REMARK:        incrementalize.mlir:[[# @LINE + 23]]:5: remark: incrementalize: decode loop left as is: 'red.reduce_mean' mixes rows along the sequence axis
func.func @no_reduction_over_the_sequence(%prompt: tensor<1x2xi64>, %wte: tensor<8x4xf32> {red.invariant}, %wq: tensor<4x4xf32> {red.invariant}, %wk: tensor<4x4xf32> {red.invariant}, %wv: tensor<4x4xf32> {red.invariant}) -> tensor<1x6xi64> {
  %pad = red.constant dense<0> : tensor<1x4xi64>
  %tokens0 = red.concat %prompt, %pad axis = 1 : tensor<1x2xi64>, tensor<1x4xi64> -> tensor<1x6xi64>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c6 = arith.constant 6 : index
  %out = scf.for %t = %c2 to %c6 step %c1 iter_args(%tok = %tokens0) -> (tensor<1x6xi64>) {
    %ids = red.reshape %tok : tensor<1x6xi64> -> tensor<6xi64>
    %x = red.gather %wte, %ids axis = 0 : tensor<8x4xf32>, tensor<6xi64> -> tensor<6x4xf32>
    %q = red.matmul %x, %wq : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %k = red.matmul %x, %wk : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %v = red.matmul %x, %wv : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %kt = red.transpose %k [1, 0] : tensor<6x4xf32> -> tensor<4x6xf32>
    %s = red.matmul %q, %kt : tensor<6x4xf32>, tensor<4x6xf32> -> tensor<6x6xf32>
    %rows = red.iota dim = 0 : tensor<6x6xi64>
    %cols = red.iota dim = 1 : tensor<6x6xi64>
    %causal = red.le %cols, %rows : tensor<6x6xi64>, tensor<6x6xi64> -> tensor<6x6xi1>
    %fill = red.constant dense<-1.0e+09> : tensor<f32>
    %masked = red.select %causal, %s, %fill : tensor<6x6xi1>, tensor<6x6xf32>, tensor<f32> -> tensor<6x6xf32>
    %p = red.softmax %masked axis = 1 : tensor<6x6xf32>
    %a = red.matmul %p, %v : tensor<6x6xf32>, tensor<6x4xf32> -> tensor<6x4xf32>
    %mean = red.reduce_mean %x axes = [0] keepdims : tensor<6x4xf32> -> tensor<1x4xf32>
    %h0 = red.add %x, %a : tensor<6x4xf32>, tensor<6x4xf32> -> tensor<6x4xf32>
    %h = red.sub %h0, %mean : tensor<6x4xf32>, tensor<1x4xf32> -> tensor<6x4xf32>
    %wt = red.transpose %wte [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
    %logits = red.matmul %h, %wt : tensor<6x4xf32>, tensor<4x8xf32> -> tensor<6x8xf32>
    %l3 = red.reshape %logits : tensor<6x8xf32> -> tensor<1x6x8xf32>
    %tm1 = arith.subi %t, %c1 : index
    %row = red.dynamic_slice %l3 [%c0, %tm1, %c0] sizes = [1, 1, 8] : (tensor<1x6x8xf32>, index, index, index) -> tensor<1x1x8xf32>
    %next = red.argmax %row axis = 2 : tensor<1x1x8xf32> -> tensor<1x1xi64>
    %new = red.dynamic_update_slice %tok, %next [%c0, %t] : (tensor<1x6xi64>, tensor<1x1xi64>, index, index) -> tensor<1x6xi64>
    scf.yield %new : tensor<1x6xi64>
  }
  func.return %out : tensor<1x6xi64>
}


// -----

// A mask computed from the step number t changes from step to step.
// CHECK-LABEL: func.func @no_mask_depends_on_the_step
// CHECK-NOT:     red.incremental
// REMARK:        incrementalize.mlir:[[# @LINE + 21]]:5: remark: incrementalize: decode loop left as is: 'red.select' mixes the step number into token-dependent values
func.func @no_mask_depends_on_the_step(%prompt: tensor<1x2xi64>, %wte: tensor<8x4xf32> {red.invariant}, %wq: tensor<4x4xf32> {red.invariant}, %wk: tensor<4x4xf32> {red.invariant}, %wv: tensor<4x4xf32> {red.invariant}) -> tensor<1x6xi64> {
  %pad = red.constant dense<0> : tensor<1x4xi64>
  %tokens0 = red.concat %prompt, %pad axis = 1 : tensor<1x2xi64>, tensor<1x4xi64> -> tensor<1x6xi64>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c6 = arith.constant 6 : index
  %out = scf.for %t = %c2 to %c6 step %c1 iter_args(%tok = %tokens0) -> (tensor<1x6xi64>) {
    %ids = red.reshape %tok : tensor<1x6xi64> -> tensor<6xi64>
    %x = red.gather %wte, %ids axis = 0 : tensor<8x4xf32>, tensor<6xi64> -> tensor<6x4xf32>
    %q = red.matmul %x, %wq : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %k = red.matmul %x, %wk : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %v = red.matmul %x, %wv : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %kt = red.transpose %k [1, 0] : tensor<6x4xf32> -> tensor<4x6xf32>
    %s = red.matmul %q, %kt : tensor<6x4xf32>, tensor<4x6xf32> -> tensor<6x6xf32>
    %rows = red.iota dim = 0 : tensor<6x6xi64>
    %cols = red.iota dim = 1 : tensor<6x6xi64>
    %tail = red.dynamic_slice %rows [%t, %c0] sizes = [1, 6] : (tensor<6x6xi64>, index, index) -> tensor<1x6xi64>
    %causal = red.le %cols, %tail : tensor<6x6xi64>, tensor<1x6xi64> -> tensor<6x6xi1>
    %fill = red.constant dense<-1.0e+09> : tensor<f32>
    %masked = red.select %causal, %s, %fill : tensor<6x6xi1>, tensor<6x6xf32>, tensor<f32> -> tensor<6x6xf32>
    %p = red.softmax %masked axis = 1 : tensor<6x6xf32>
    %a = red.matmul %p, %v : tensor<6x6xf32>, tensor<6x4xf32> -> tensor<6x4xf32>
    %h = red.add %x, %a : tensor<6x4xf32>, tensor<6x4xf32> -> tensor<6x4xf32>
    %wt = red.transpose %wte [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
    %logits = red.matmul %h, %wt : tensor<6x4xf32>, tensor<4x8xf32> -> tensor<6x8xf32>
    %l3 = red.reshape %logits : tensor<6x8xf32> -> tensor<1x6x8xf32>
    %tm1 = arith.subi %t, %c1 : index
    %row = red.dynamic_slice %l3 [%c0, %tm1, %c0] sizes = [1, 1, 8] : (tensor<1x6x8xf32>, index, index, index) -> tensor<1x1x8xf32>
    %next = red.argmax %row axis = 2 : tensor<1x1x8xf32> -> tensor<1x1xi64>
    %new = red.dynamic_update_slice %tok, %next [%c0, %t] : (tensor<1x6xi64>, tensor<1x1xi64>, index, index) -> tensor<1x6xi64>
    scf.yield %new : tensor<1x6xi64>
  }
  func.return %out : tensor<1x6xi64>
}


// -----

// A loop that carries more than the tokens and output buffers (here a running sum) is not
// a decode loop red can prove.
// CHECK-LABEL: func.func @no_other_carried_state
// CHECK-NOT:     red.incremental
// REMARK:        incrementalize.mlir:[[# @LINE + 9]]:3: remark: incrementalize: decode loop left as is: carried value #1 is not an output buffer written once per step
func.func @no_other_carried_state(%prompt: tensor<1x2xi64>, %wte: tensor<8x4xf32> {red.invariant}, %wq: tensor<4x4xf32> {red.invariant}, %wk: tensor<4x4xf32> {red.invariant}, %wv: tensor<4x4xf32> {red.invariant}) -> tensor<1x6xi64> {
  %pad = red.constant dense<0> : tensor<1x4xi64>
  %tokens0 = red.concat %prompt, %pad axis = 1 : tensor<1x2xi64>, tensor<1x4xi64> -> tensor<1x6xi64>
  %zero = red.constant dense<0.0> : tensor<6x4xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c6 = arith.constant 6 : index
  %out:2 = scf.for %t = %c2 to %c6 step %c1 iter_args(%tok = %tokens0, %acc = %zero) -> (tensor<1x6xi64>, tensor<6x4xf32>) {
    %ids = red.reshape %tok : tensor<1x6xi64> -> tensor<6xi64>
    %x = red.gather %wte, %ids axis = 0 : tensor<8x4xf32>, tensor<6xi64> -> tensor<6x4xf32>
    %q = red.matmul %x, %wq : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %k = red.matmul %x, %wk : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %v = red.matmul %x, %wv : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %kt = red.transpose %k [1, 0] : tensor<6x4xf32> -> tensor<4x6xf32>
    %s = red.matmul %q, %kt : tensor<6x4xf32>, tensor<4x6xf32> -> tensor<6x6xf32>
    %rows = red.iota dim = 0 : tensor<6x6xi64>
    %cols = red.iota dim = 1 : tensor<6x6xi64>
    %causal = red.le %cols, %rows : tensor<6x6xi64>, tensor<6x6xi64> -> tensor<6x6xi1>
    %fill = red.constant dense<-1.0e+09> : tensor<f32>
    %masked = red.select %causal, %s, %fill : tensor<6x6xi1>, tensor<6x6xf32>, tensor<f32> -> tensor<6x6xf32>
    %p = red.softmax %masked axis = 1 : tensor<6x6xf32>
    %a = red.matmul %p, %v : tensor<6x6xf32>, tensor<6x4xf32> -> tensor<6x4xf32>
    %h = red.add %x, %a : tensor<6x4xf32>, tensor<6x4xf32> -> tensor<6x4xf32>
    %wt = red.transpose %wte [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
    %logits = red.matmul %h, %wt : tensor<6x4xf32>, tensor<4x8xf32> -> tensor<6x8xf32>
    %l3 = red.reshape %logits : tensor<6x8xf32> -> tensor<1x6x8xf32>
    %tm1 = arith.subi %t, %c1 : index
    %row = red.dynamic_slice %l3 [%c0, %tm1, %c0] sizes = [1, 1, 8] : (tensor<1x6x8xf32>, index, index, index) -> tensor<1x1x8xf32>
    %next = red.argmax %row axis = 2 : tensor<1x1x8xf32> -> tensor<1x1xi64>
    %new = red.dynamic_update_slice %tok, %next [%c0, %t] : (tensor<1x6xi64>, tensor<1x1xi64>, index, index) -> tensor<1x6xi64>
    %acc2 = red.add %acc, %x : tensor<6x4xf32>, tensor<6x4xf32> -> tensor<6x4xf32>
    scf.yield %new, %acc2 : tensor<1x6xi64>, tensor<6x4xf32>
  }
  func.return %out#0 : tensor<1x6xi64>
}


// -----

// Two layers (sharing their weights) after a 3-token prompt: the prefill computes layer 1's
// keys and values of rows [0, 2), so it runs layer 0's attention on those rows; it attends
// over the 2 computed rows only (scores 2x2, the mask's top-left corner), not over the
// state padded to T = 6 (scores 2x6) as incrementalize{narrow-prefill=false} does.
// RUN: red-opt %s -p canonicalize,incrementalize{narrow-prefill=false} --split-input-file 2>/dev/null | filecheck %s --check-prefix=PADDED
// CHECK-LABEL: func.func @two_layers
// CHECK-SAME:    (%{{.*}}: tensor<1x3xi64>, %{{.*}}: tensor<8x4xf32> {red.invariant}, %{{.*}}: tensor<4x4xf32> {red.invariant}, %[[WK:.*]]: tensor<4x4xf32> {red.invariant}, %{{.*}}: tensor<4x4xf32> {red.invariant})
// CHECK:         %[[MASK:.*]] = red.constant dense<{{.*}}> : tensor<6x6xi1>
// CHECK:         %[[K0:.*]] = red.matmul %{{.*}}, %[[WK]] : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
// CHECK:         %[[KT:.*]] = red.transpose %[[K0]] [1, 0] : tensor<2x4xf32> -> tensor<4x2xf32>
// CHECK:         %[[S:.*]] = red.matmul %{{.*}}, %{{.*}} : tensor<2x4xf32>, tensor<4x2xf32> -> tensor<2x2xf32>
// CHECK-NEXT:    %[[M:.*]] = red.slice %[[MASK]] [0, 0] [2, 6] [1, 1] : tensor<6x6xi1> -> tensor<2x6xi1>
// CHECK-NEXT:    %[[M2:.*]] = red.slice %[[M]] [0, 0] [2, 2] [1, 1] : tensor<2x6xi1> -> tensor<2x2xi1>
// CHECK-NEXT:    %[[SM:.*]] = red.select %[[M2]], %[[S]], %{{.*}} : tensor<2x2xi1>, tensor<2x2xf32>, tensor<f32> -> tensor<2x2xf32>
// CHECK-NEXT:    %[[P:.*]] = red.softmax %[[SM]] axis = 1 : tensor<2x2xf32>
// CHECK-NEXT:    %{{.*}} = red.matmul %[[P]], %{{.*}} : tensor<2x2xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
// CHECK:         scf.for
// CHECK:         } {red.incremental}
// PADDED-LABEL: func.func @two_layers
// PADDED:         %[[KS:.*]] = red.concat %{{.*}} axis = 0 : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
// PADDED:         %[[KT:.*]] = red.transpose %[[KS]] [1, 0] : tensor<6x4xf32> -> tensor<4x6xf32>
// PADDED-NEXT:    %{{.*}} = red.matmul %{{.*}}, %[[KT]] : tensor<2x4xf32>, tensor<4x6xf32> -> tensor<2x6xf32>
// PADDED:         red.softmax %{{.*}} axis = 1 : tensor<2x6xf32>
// PADDED:         } {red.incremental}
func.func @two_layers(%prompt: tensor<1x3xi64>, %wte: tensor<8x4xf32> {red.invariant}, %wq: tensor<4x4xf32> {red.invariant}, %wk: tensor<4x4xf32> {red.invariant}, %wv: tensor<4x4xf32> {red.invariant}) -> tensor<1x6xi64> {
  %pad = red.constant dense<0> : tensor<1x3xi64>
  %tokens0 = red.concat %prompt, %pad axis = 1 : tensor<1x3xi64>, tensor<1x3xi64> -> tensor<1x6xi64>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c6 = arith.constant 6 : index
  %rows = red.iota dim = 0 : tensor<6x6xi64>
  %cols = red.iota dim = 1 : tensor<6x6xi64>
  %causal = red.le %cols, %rows : tensor<6x6xi64>, tensor<6x6xi64> -> tensor<6x6xi1>
  %fill = red.constant dense<-1.0e+09> : tensor<f32>
  %out = scf.for %t = %c3 to %c6 step %c1 iter_args(%tok = %tokens0) -> (tensor<1x6xi64>) {
    %ids = red.reshape %tok : tensor<1x6xi64> -> tensor<6xi64>
    %x = red.gather %wte, %ids axis = 0 : tensor<8x4xf32>, tensor<6xi64> -> tensor<6x4xf32>
    %q = red.matmul %x, %wq : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %k = red.matmul %x, %wk : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %v = red.matmul %x, %wv : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %kt = red.transpose %k [1, 0] : tensor<6x4xf32> -> tensor<4x6xf32>
    %s = red.matmul %q, %kt : tensor<6x4xf32>, tensor<4x6xf32> -> tensor<6x6xf32>
    %masked = red.select %causal, %s, %fill : tensor<6x6xi1>, tensor<6x6xf32>, tensor<f32> -> tensor<6x6xf32>
    %p = red.softmax %masked axis = 1 : tensor<6x6xf32>
    %a = red.matmul %p, %v : tensor<6x6xf32>, tensor<6x4xf32> -> tensor<6x4xf32>
    %h = red.add %x, %a : tensor<6x4xf32>, tensor<6x4xf32> -> tensor<6x4xf32>
    %q1 = red.matmul %h, %wq : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %k1 = red.matmul %h, %wk : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %v1 = red.matmul %h, %wv : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
    %kt1 = red.transpose %k1 [1, 0] : tensor<6x4xf32> -> tensor<4x6xf32>
    %s1 = red.matmul %q1, %kt1 : tensor<6x4xf32>, tensor<4x6xf32> -> tensor<6x6xf32>
    %masked1 = red.select %causal, %s1, %fill : tensor<6x6xi1>, tensor<6x6xf32>, tensor<f32> -> tensor<6x6xf32>
    %p1 = red.softmax %masked1 axis = 1 : tensor<6x6xf32>
    %a1 = red.matmul %p1, %v1 : tensor<6x6xf32>, tensor<6x4xf32> -> tensor<6x4xf32>
    %h1 = red.add %h, %a1 : tensor<6x4xf32>, tensor<6x4xf32> -> tensor<6x4xf32>
    %wt = red.transpose %wte [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
    %logits = red.matmul %h1, %wt : tensor<6x4xf32>, tensor<4x8xf32> -> tensor<6x8xf32>
    %l3 = red.reshape %logits : tensor<6x8xf32> -> tensor<1x6x8xf32>
    %tm1 = arith.subi %t, %c1 : index
    %row = red.dynamic_slice %l3 [%c0, %tm1, %c0] sizes = [1, 1, 8] : (tensor<1x6x8xf32>, index, index, index) -> tensor<1x1x8xf32>
    %next = red.argmax %row axis = 2 : tensor<1x1x8xf32> -> tensor<1x1xi64>
    %new = red.dynamic_update_slice %tok, %next [%c0, %t] : (tensor<1x6xi64>, tensor<1x1xi64>, index, index) -> tensor<1x6xi64>
    scf.yield %new : tensor<1x6xi64>
  }
  func.return %out : tensor<1x6xi64>
}
