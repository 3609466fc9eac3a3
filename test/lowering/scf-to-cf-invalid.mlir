// RUN: red-opt %s -p convert-scf-to-cf --split-input-file --verify-diagnostics

// scf.parallel has no sequential meaning to branch on here (MLIR lowers it to scf.for first).
func.func @parallel(%n: index, %m: memref<8xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error @below {{'scf.parallel' op is not supported by convert-scf-to-cf}}
  "scf.parallel"(%c0, %n, %c1) <{operandSegmentSizes = array<i32: 1, 1, 1, 0>}> ({
  ^bb0(%i: index):
    memref.store %v, %m[%i] : memref<8xf32>
    "scf.reduce"() : () -> ()
  }) : (index, index, index) -> ()
  func.return
}
