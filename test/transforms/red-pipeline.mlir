// red-pipeline on the three examples and on a small module of its own (below), under
// strict-fp, and with the redundancy report. Every pipeline run also has
// --verify-equivalence, which exits 1 on a divergence from the input module (lit runs pipes
// with pipefail), so each passing run is also an equivalence check.
//
// RUN: red-opt %examples/seed_chain.mlir -p red-pipeline --verify-equivalence | filecheck %s --check-prefix=SEED
// RUN: red-opt %examples/seed_chain.mlir -p 'red-pipeline{strict-fp=true}' --verify-equivalence | filecheck %s --check-prefix=STRICT
// RUN: red-opt %examples/gpt_decoder.mlir -p red-pipeline --verify-equivalence | filecheck %s --check-prefix=GPT
// RUN: red-opt %examples/lstm_classifier.mlir -p red-pipeline --verify-equivalence | filecheck %s --check-prefix=LSTM
// RUN: red-opt %examples/gpt_generate.mlir -p red-pipeline --verify-equivalence=1 | filecheck %s --check-prefix=GENERATE
// RUN: red-opt %s -p red-pipeline --verify-equivalence | filecheck %s
//
// The report goes to stderr, the IR to -o.
// RUN: red-opt %examples/seed_chain.mlir -p red-pipeline --redundancy-report -o /dev/null 2>&1 | filecheck %s --check-prefix=REPORT
// RUN: red-opt %examples/lstm_classifier.mlir -p red-pipeline --redundancy-report=json -o /dev/null 2>&1 | filecheck %s --check-prefix=JSON

// Greedy generation: the decode loop is incrementalized (it carries the keys and values of
// both layers, 16 rows of 64 each, next to the tokens) and the step runs on one row.
// GENERATE-LABEL: func.func @generate
// GENERATE:         scf.for %[[T:.*]] = %{{.*}} iter_args(%[[TOK:.*]] = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (tensor<1x16xi64>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>) {
// GENERATE:           red.dynamic_slice %[[TOK]]
// GENERATE-NOT:       tensor<16x512xf32>
// GENERATE:           red.argmax %{{.*}} axis = 2 : tensor<1x1x512xf32> -> tensor<1x1xi64>
// GENERATE:         } {red.incremental}

// Seed chain: exactly three matmuls, t = A·B; (t·C)·t.
// SEED-LABEL: func.func @main
// SEED-SAME:    (%[[A:.*]]: tensor<64x64xf32>, %[[B:.*]]: tensor<64x64xf32>, %[[C:.*]]: tensor<64x64xf32>)
// SEED-NEXT:    %[[T:.*]] = red.matmul %[[A]], %[[B]]
// SEED-NEXT:    %[[TC:.*]] = red.matmul %[[T]], %[[C]]
// SEED-NEXT:    %[[R:.*]] = red.matmul %[[TC]], %[[T]]
// SEED-NEXT:    func.return %[[R]]

// strict-fp: no reassociation, the four matmuls stay.
// STRICT-LABEL: func.func @main
// STRICT-COUNT-4: red.matmul
// STRICT-NOT:     red.matmul
// STRICT:         func.return

// GPT decoder: the tied LM-head transpose of wte is cached in a red.memo keyed on wte, and
// the LM head runs on the last position only.
// GPT-LABEL: func.func @main
// GPT-SAME:    %[[WTE:[^:]*]]: tensor<512x64xf32> {red.invariant}
// GPT-NOT:     tensor<32x512xf32>
// GPT:         %[[WT:.*]] = red.memo(%[[WTE]]) : (tensor<512x64xf32>) -> tensor<64x512xf32> {
// GPT-NEXT:    ^bb0(%[[ARG:.*]]: tensor<512x64xf32>):
// GPT-NEXT:      %[[T:.*]] = red.transpose %[[ARG]] [1, 0] : tensor<512x64xf32> -> tensor<64x512xf32>
// GPT-NEXT:      red.yield %[[T]] : tensor<64x512xf32>
// GPT-NEXT:    }
// GPT-NEXT:    %[[LOGITS:.*]] = red.matmul %{{.*}}, %[[WT]] : tensor<1x64xf32>, tensor<64x512xf32> -> tensor<1x512xf32>
// GPT-NEXT:    func.return %[[LOGITS]] : tensor<1x512xf32>

// LSTM classifier: the classifier runs on the last step only (no concat of the 16 steps);
// its weight transpose is cached.
// LSTM-LABEL: func.func @main
// LSTM-SAME:    %[[FCW:[^:]*]]: tensor<10x64xf32> {red.invariant}
// LSTM-NOT:     red.concat
// LSTM-NOT:     tensor<16x10xf32>
// LSTM:         %[[WT:.*]] = red.memo(%[[FCW]]) : (tensor<10x64xf32>) -> tensor<64x10xf32>
// LSTM:         %[[L:.*]] = red.matmul %{{.*}}, %[[WT]] : tensor<1x64xf32>, tensor<64x10xf32> -> tensor<1x10xf32>
// LSTM-NOT:     red.concat
// LSTM-NOT:     tensor<16x10xf32>
// LSTM:         func.return

// The report on the seed chain: ops and FLOPs before -> after, first and later calls.
// REPORT:      @main
// REPORT-NEXT:   ops {{ *}}4 -> {{ *}}3 (-25.0%)
// REPORT-NEXT:   FLOPs (first call) {{ *}}2.097M -> {{ *}}1.573M (-25.0%)
// REPORT-NEXT:   FLOPs (later calls) {{ *}}2.097M -> {{ *}}1.573M (-25.0%)
// REPORT:        findings:
// REPORT:          shared-subchain {{ *}}1 x, saving 524.288k FLOPs

// JSON keys as in DESIGN.md §3. The LSTM's memo caches the first step's h0·W_hhᵀ (h0 is a
// constant), so after the pipeline later calls cost less than the first (FileCheck cannot
// compare numbers: test_deep_passes.py asserts it).
// JSON:      "name": "main"
// JSON:      "before": {
// JSON:        "flops_first_call": [[BEFORE:[0-9]+]],
// JSON-NEXT:   "flops_per_call": [[BEFORE]]
// JSON:      "after": {
// JSON:        "flops_first_call": [[FIRST:[0-9]+]],
// JSON-NEXT:   "flops_per_call": [[LATER:[0-9]+]]
// JSON:      "findings": [
// JSON-DAG:    "kind": "unused-rows"
// JSON-DAG:    "kind": "invariant"

// All three passes on one small function: the tanh and the LM-style matmul run on the
// last row only, and the weight transpose is cached.
// CHECK-LABEL: func.func @main
// CHECK-SAME:    (%[[X:.*]]: tensor<8x16xf32>, %[[W:.*]]: tensor<32x16xf32> {red.invariant})
// CHECK-DAG:     %[[XR:.*]] = red.slice %[[X]] [7, 0] [8, 16] [1, 1] : tensor<8x16xf32> -> tensor<1x16xf32>
// CHECK-DAG:     %[[H:.*]] = red.tanh %[[XR]] : tensor<1x16xf32>
// CHECK-DAG:     %[[WT:.*]] = red.memo(%[[W]]) : (tensor<32x16xf32>) -> tensor<16x32xf32>
// CHECK:         %[[L:.*]] = red.matmul %[[H]], %[[WT]] : tensor<1x16xf32>, tensor<16x32xf32> -> tensor<1x32xf32>
// CHECK-NEXT:    func.return %[[L]] : tensor<1x32xf32>
func.func @main(%x: tensor<8x16xf32>, %w: tensor<32x16xf32> {red.invariant}) -> tensor<1x32xf32> {
  %wt = red.transpose %w [1, 0] : tensor<32x16xf32> -> tensor<16x32xf32>
  %h = red.tanh %x : tensor<8x16xf32>
  %l = red.matmul %h, %wt : tensor<8x16xf32>, tensor<16x32xf32> -> tensor<8x32xf32>
  %r = red.slice %l [7, 0] [8, 32] [1, 1] : tensor<8x32xf32> -> tensor<1x32xf32>
  func.return %r : tensor<1x32xf32>
}
