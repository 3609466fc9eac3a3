// red-run --profile: time, FLOPs and bytes per op of the compiled function, on stderr
// (stdout keeps the results); --profile=json; --profile-trace writes a Chrome trace.
// RUN: rm -rf %t && mkdir -p %t

// The table: a header with the calls and the time per call, then one row per op that does
// work (the constant is not timed), sorted by time; FLOPs and bytes are the cost model's.
// RUN: red-run %s --random --repeat 3 --profile 2>%t/table.txt | filecheck %s --check-prefix=CHECK-RESULTS
// RUN: filecheck %s --input-file %t/table.txt --check-prefix=CHECK-TABLE
// CHECK-RESULTS: {{^}}result0: shape 64x64 dtype float32
// CHECK-TABLE:      {{^}}profile of @main: 3 calls, {{[0-9.]+}} ms per call
// CHECK-TABLE-NEXT: time (ms) {{.*}} GFLOP/s {{.*}} FLOPs {{.*}} bytes  op  location
// (tanh is fused into the add's loop nest: its time is the add's, its rates are '-'.)
// CHECK-TABLE-DAG:  {{^ *[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +}}524288 {{ +}}49152  red.matmul  {{.*}}red-run-profile.mlir:29:3
// CHECK-TABLE-DAG:  {{^ *[0-9.]+ +[0-9.]+ +[0-9.-]+ +[0-9.-]+ +}}32768 {{ +}}32768  red.tanh  {{.*}}red-run-profile.mlir:30:3
// CHECK-TABLE-DAG:  {{^ *[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +}}4096 {{ +}}49152  red.add  {{.*}}red-run-profile.mlir:32:3
// CHECK-TABLE-NOT:  red.constant

// JSON on request, and a Chrome trace of one call (complete events in program order).
// RUN: red-run %s --random --profile=json --profile-trace %t/trace.json 2>%t/profile.json >/dev/null
// RUN: python -c "import json, sys; p = json.load(open('%t/profile.json')); t = json.load(open('%t/trace.json')); print(sorted(o['op'] for o in p['ops'])); print([e['name'] for e in t['traceEvents']], {e['ph'] for e in t['traceEvents']})" | filecheck %s --check-prefix=CHECK-JSON
// CHECK-JSON:      ['red.add', 'red.matmul', 'red.tanh']
// CHECK-JSON-NEXT: ['red.matmul', 'red.tanh', 'red.add'] {'X'}

// --profile times compiled code.
// RUN: not red-run %s --random --engine interp --profile 2>&1 | filecheck %s --check-prefix=CHECK-INTERP
// CHECK-INTERP: error: --profile times compiled code: it needs --engine jit

func.func @main(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %m = red.matmul %a, %b : tensor<64x64xf32>, tensor<64x64xf32> -> tensor<64x64xf32>
  %t = red.tanh %m : tensor<64x64xf32>
  %one = red.constant dense<1.0> : tensor<f32>
  %s = red.add %t, %m : tensor<64x64xf32>, tensor<64x64xf32> -> tensor<64x64xf32>
  func.return %s : tensor<64x64xf32>
}
