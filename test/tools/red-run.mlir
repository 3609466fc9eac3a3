// red-run's command-line contract (DESIGN.md §6), through the interpreter.
// RUN: rm -rf %t && mkdir -p %t

// --random draws seeded inputs; the same seed gives the same results.
// RUN: red-run %s --engine interp --random > %t/seeds.txt
// RUN: red-run %s --engine interp --random --seed 0 >> %t/seeds.txt
// RUN: filecheck %s --input-file %t/seeds.txt --check-prefix=CHECK-RANDOM
// CHECK-RANDOM:      {{^}}result0: shape 2x3 dtype float32 [[R0:.*]]
// CHECK-RANDOM-NEXT: {{^}}result1: shape 4x3 dtype float32 [[R1:.*]]
// CHECK-RANDOM-NEXT: {{^}}result0: shape 2x3 dtype float32 [[R0]]
// CHECK-RANDOM-NEXT: {{^}}result1: shape 4x3 dtype float32 [[R1]]
// CHECK-RANDOM-NOT:  {{.}}

// Random integers index within the table they gather from (3 rows here, not the default 8).
// RUN: red-run %s --engine interp --random --seed 3 --entry ids | filecheck %s --check-prefix=CHECK-IDS
// CHECK-IDS: {{^}}result0: shape 64 dtype int64 min 0 max 2 mean
// CHECK-IDS: {{^}}result1: shape 64x2 dtype float32

// --inputs: one .npy per argument, in order.
// RUN: python -c "import numpy as np; np.save('%t/x.npy', np.ones((2, 3), np.float32)); np.save('%t/x64.npy', np.ones((2, 3))); np.save('%t/x32.npy', np.ones((3, 2), np.float32)); np.save('%t/ids.npy', np.array([0, 1, 15, 2])); np.save('%t/w.npy', np.arange(48, dtype=np.float32).reshape(16, 3)); open('%t/junk.npy', 'w').write('not numpy')"
// RUN: red-run %s --engine interp --inputs %t/x.npy %t/ids.npy %t/w.npy | filecheck %s --check-prefix=CHECK-INPUTS
// CHECK-INPUTS:      {{^}}result0: shape 2x3 dtype float32 min 2.71828 max 2.71828 mean 2.71828 first [2.71828, 2.71828, 2.71828, 2.71828, 2.71828, 2.71828]
// CHECK-INPUTS-NEXT: {{^}}result1: shape 4x3 dtype float32 min -47 max -0 mean -14.5 first [-0., -1., -2., -3., -4., -5.]
// CHECK-INPUTS-NOT:  {{.}}

// An input whose dtype, shape or count differs from the signature is an error naming the
// argument, located at the function; no silent cast.
// RUN: not red-run %s --engine interp --inputs %t/x64.npy %t/ids.npy %t/w.npy 2>&1 | filecheck %s --check-prefix=CHECK-DTYPE
// RUN: not red-run %s --engine interp --inputs %t/x32.npy %t/ids.npy %t/w.npy 2>&1 | filecheck %s --check-prefix=CHECK-SHAPE
// RUN: not red-run %s --engine interp --inputs %t/x.npy %t/ids.npy 2>&1 | filecheck %s --check-prefix=CHECK-TIMES
// CHECK-DTYPE-NOT:  Traceback
// CHECK-DTYPE:      red-run.mlir:[[# @LINE + 59]]:1: error: argument #0 (%x) of '@main' expects 'tensor<2x3xf32>', got an array of shape 2x3 and dtype float64
// CHECK-DTYPE-NOT:  result0
// CHECK-SHAPE:      red-run.mlir:[[# @LINE + 57]]:1: error: argument #0 (%x) of '@main' expects 'tensor<2x3xf32>', got an array of shape 3x2 and dtype float32
// CHECK-SHAPE-NOT:  result0
// CHECK-TIMES:      red-run.mlir:[[# @LINE + 55]]:1: error: '@main' takes 3 arguments, got 2
// CHECK-TIMES-NOT:  result0

// Unreadable .npy files.
// RUN: not red-run %s --engine interp --inputs %t/junk.npy %t/ids.npy %t/w.npy 2>&1 | filecheck %s --check-prefix=CHECK-JUNK
// RUN: not red-run %s --engine interp --inputs %t/missing.npy %t/ids.npy %t/w.npy 2>&1 | filecheck %s --check-prefix=CHECK-MISSING-NPY
// CHECK-JUNK-NOT:        Traceback
// CHECK-JUNK:            {{^}}error: could not read input '{{.*}}junk.npy': not a .npy file
// CHECK-MISSING-NPY-NOT: Traceback
// CHECK-MISSING-NPY:     {{^}}error: could not read input '{{.*}}missing.npy': {{.*}}No such file or directory

// --output-dir is created if missing and receives result0.npy, result1.npy in result order.
// RUN: red-run %s --engine interp --inputs %t/x.npy %t/ids.npy %t/w.npy --output-dir %t/out/nested | filecheck %s --check-prefix=CHECK-INPUTS
// RUN: python -c "import numpy as np; a = np.load('%t/out/nested/result0.npy'); b = np.load('%t/out/nested/result1.npy'); print(a.shape, a.dtype, a[1, 2]); print(b.shape, b.dtype, b[2].tolist())" | filecheck %s --check-prefix=CHECK-NPY
// CHECK-NPY:      {{^}}(2, 3) float32 2.71828
// CHECK-NPY-NEXT: {{^}}(4, 3) float32 [-45.0, -46.0, -47.0]
// RUN: not red-run %s --engine interp --random --output-dir %t/x.npy 2>&1 | filecheck %s --check-prefix=CHECK-OUT-FILE
// CHECK-OUT-FILE-NOT: Traceback
// CHECK-OUT-FILE:     {{^}}error: could not write results to '{{.*}}x.npy': File exists

// --repeat N calls N times (the memo warms up) and reports each call's time; the results are
// the last call's.
// RUN: red-run %s --engine interp --inputs %t/x.npy %t/ids.npy %t/w.npy --repeat 3 | filecheck %s --check-prefix=CHECK-REPEAT
// CHECK-REPEAT:      {{^}}call 0: {{[0-9]+\.[0-9]+}} ms
// CHECK-REPEAT-NEXT: {{^}}call 1: {{[0-9]+\.[0-9]+}} ms
// CHECK-REPEAT-NEXT: {{^}}call 2: {{[0-9]+\.[0-9]+}} ms
// CHECK-REPEAT-NEXT: {{^}}result0: shape 2x3 dtype float32 min 2.71828
// CHECK-REPEAT-NEXT: {{^}}result1: shape 4x3 dtype float32 min -47 max -0
// CHECK-REPEAT-NOT:  call
// RUN: not red-run %s --engine interp --random --repeat 0 2>&1 | filecheck %s --check-prefix=CHECK-REPEAT-ZERO
// CHECK-REPEAT-ZERO: {{^}}error: --repeat expects a positive count, got 0

// --entry selects another function; an unknown one is an error listing the functions.
// RUN: red-run %s --engine interp --random --entry double | filecheck %s --check-prefix=CHECK-ENTRY
// RUN: not red-run %s --engine interp --random --entry nope 2>&1 | filecheck %s --check-prefix=CHECK-NO-ENTRY
// CHECK-ENTRY:        {{^}}result0: shape 3 dtype float32
// CHECK-ENTRY-NOT:    result1
// CHECK-NO-ENTRY-NOT: Traceback
// CHECK-NO-ENTRY:     error: no function '@nope' in the module (functions: @main, @double, @ids)

// Usage errors.
// RUN: not red-run %s --engine interp 2>&1 | filecheck %s --check-prefix=CHECK-NO-SOURCE
// RUN: not red-run %s --engine interp --random --inputs %t/x.npy 2>&1 | filecheck %s --check-prefix=CHECK-BOTH
// RUN: not red-run %t/missing.mlir --engine interp --random 2>&1 | filecheck %s --check-prefix=CHECK-NO-FILE
// CHECK-NO-SOURCE: {{^}}error: one of the arguments --inputs --random is required
// CHECK-BOTH:      {{^}}error: argument --inputs: not allowed with argument --random
// CHECK-NO-FILE:   {{^}}error: could not open input file '{{.*}}missing.mlir': No such file or directory

// A run-time failure is located at the op that failed.
// RUN: python -c "import numpy as np; np.save('%t/ids64.npy', np.full(64, 5)); np.save('%t/table.npy', np.ones((3, 2), np.float32))"
// RUN: not red-run %s --engine interp --entry ids --inputs %t/ids64.npy %t/table.npy 2>&1 | filecheck %s --check-prefix=CHECK-RUNTIME
// CHECK-RUNTIME-NOT: Traceback
// CHECK-RUNTIME:     red-run.mlir:[[# @LINE + 20]]:3: error: 'red.gather' op failed at run time: gather index 5 is out of range [-3, 3)
// CHECK-RUNTIME-NOT: result0

func.func @main(%x: tensor<2x3xf32>, %ids: tensor<4xi64>, %w: tensor<16x3xf32> {red.invariant}) -> (tensor<2x3xf32>, tensor<4x3xf32>) {
  %y = red.exp %x : tensor<2x3xf32>
  %nw = red.memo(%w) : (tensor<16x3xf32>) -> tensor<16x3xf32> {
  ^bb0(%a: tensor<16x3xf32>):
    %n = red.neg %a : tensor<16x3xf32>
    red.yield %n : tensor<16x3xf32>
  }
  %e = red.gather %nw, %ids axis = 0 : tensor<16x3xf32>, tensor<4xi64> -> tensor<4x3xf32>
  func.return %y, %e : tensor<2x3xf32>, tensor<4x3xf32>
}

func.func @double(%x: tensor<3xf32>) -> tensor<3xf32> {
  %y = red.add %x, %x : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  func.return %y : tensor<3xf32>
}

func.func @ids(%ids: tensor<64xi64>, %table: tensor<3x2xf32>) -> (tensor<64xi64>, tensor<64x2xf32>) {
  %e = red.gather %table, %ids axis = 0 : tensor<3x2xf32>, tensor<64xi64> -> tensor<64x2xf32>
  func.return %ids, %e : tensor<64xi64>, tensor<64x2xf32>
}
