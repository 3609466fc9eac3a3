// Where red-opt writes: IR to stdout or `-o FILE`; timing and IR dumps to stderr only.

// `-o` writes the file and nothing to stdout; an unwritable path is an error, not a traceback.
// RUN: rm -rf %t && mkdir -p %t
// RUN: red-opt %s -o %t/out.mlir | filecheck %s --check-prefix=QUIET --allow-empty
// RUN: filecheck %s --input-file %t/out.mlir
// RUN: not red-opt %s -o %t/no/such/dir/out.mlir 2>&1 | filecheck %s --check-prefix=UNWRITABLE
// QUIET-NOT: {{.}}
// UNWRITABLE-NOT: Traceback
// UNWRITABLE: {{^}}error: could not open output file '{{.*}}/no/such/dir/out.mlir': No such file or directory
// UNWRITABLE-NOT: {{.}}

// --mlir-timing: the report goes to stderr, the IR alone to stdout.
// RUN: red-opt %s --mlir-timing 2>%t/timing.err | filecheck %s
// RUN: filecheck %s --input-file %t/timing.err --check-prefix=TIMING
// TIMING:      ... Execution time report ...
// TIMING:      Total Execution Time: {{[0-9.]+}} seconds
// TIMING:      ----Wall Time----  ----Name----
// TIMING-NEXT: {{[0-9.]+}} ({{ *[0-9.]+}}%)  Parser
// TIMING-NEXT: {{[0-9.]+}} ({{ *[0-9.]+}}%)  Output
// TIMING-NEXT: {{[0-9.]+}} (100.0%)  Total
// TIMING-NOT:  func.func

// --mlir-print-ir-after-all dumps after each pass to stderr: with no pass there is no dump,
// and stdout is unchanged.
// RUN: red-opt %s --mlir-print-ir-after-all 2>%t/dump.err | filecheck %s
// RUN: filecheck %s --input-file %t/dump.err --check-prefix=NO-DUMP --allow-empty
// NO-DUMP-NOT: {{.}}

// With passes, one dump per pass (nested pipeline steps included), in order, on stderr.
// RUN: red-opt %s -p cse,dce --mlir-print-ir-after-all 2>%t/dump2.err >/dev/null
// RUN: filecheck %s --input-file %t/dump2.err --check-prefix=DUMP
// DUMP:      // -----// IR Dump After cse //----- //
// DUMP-NEXT: builtin.module {
// DUMP:      // -----// IR Dump After dce //----- //
// DUMP-NEXT: builtin.module {
// DUMP-NOT:  IR Dump

// --mlir-print-op-generic applies to the output.
// RUN: red-opt %s --mlir-print-op-generic | filecheck %s --check-prefix=GENERIC
// GENERIC:      "func.func"() <{sym_name = "output", function_type = (tensor<2x3xf32>) -> tensor<3x2xf32>}> ({
// GENERIC-NEXT: ^{{.*}}(%[[X:.*]]: tensor<2x3xf32>):
// GENERIC-NEXT:   %[[T:.*]] = "red.transpose"(%[[X]]) <{permutation = array<i64: 1, 0>}> : (tensor<2x3xf32>) -> tensor<3x2xf32>
// GENERIC-NEXT:   "func.return"(%[[T]]) : (tensor<3x2xf32>) -> ()

// CHECK-LABEL: func.func @output
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf32>) -> tensor<3x2xf32>
// CHECK-NEXT:    %[[T:.*]] = red.transpose %[[X]] [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
// CHECK-NEXT:    func.return %[[T]] : tensor<3x2xf32>
// CHECK-NOT:   Execution time
func.func @output(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %t = red.transpose %x [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  func.return %t : tensor<3x2xf32>
}
