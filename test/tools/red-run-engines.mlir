// red-run runs through the JIT by default and through the interpreter with --engine interp
// (DESIGN.md §4, §6); on the examples both print the same result summary, up to float
// rounding (the JIT's matmul uses FMA and its exp/tanh/erf are polynomials, so the 6th
// significant digit may differ), and save results that agree.
// RUN: rm -rf %t && mkdir -p %t
// RUN: python -c "import numpy as np; np.save('%t/x.npy', np.array([0.0, 1.0, -1.0], np.float32))"

// This module has a dynamic shape: both engines run it (the JIT through the sized ABI of
// functions with `?` dims) at the size of the input.
// RUN: red-run %s --inputs %t/x.npy 2>&1 | filecheck %s --check-prefix=CHECK-DYNAMIC
// RUN: red-run %s --inputs %t/x.npy --engine jit 2>&1 | filecheck %s --check-prefix=CHECK-DYNAMIC
// RUN: red-run %s --inputs %t/x.npy --engine interp | filecheck %s --check-prefix=CHECK-DYNAMIC
// CHECK-DYNAMIC-NOT: Traceback
// CHECK-DYNAMIC:     {{^}}result0: shape 3 dtype float32 min 0.367879 max 2.71828 mean 1.36205 first [1.     , 2.71828, 0.36788]

// The examples, JIT (default) then interpreter: equal shapes and dtypes, equal integer parts
// of min and max, and saved results that agree within the §7 tolerances.
// RUN: red-run %examples/seed_chain.mlir --random --output-dir %t/seed-jit > %t/seed.txt
// RUN: red-run %examples/seed_chain.mlir --random --engine interp --output-dir %t/seed-interp >> %t/seed.txt
// RUN: filecheck %s --check-prefix=CHECK-SUMMARY --input-file %t/seed.txt
// RUN: python %S/Inputs/compare_results.py %t/seed-jit %t/seed-interp | filecheck %s --check-prefix=CHECK-AGREE
// RUN: red-run %examples/lstm_classifier.mlir --random --seed 1 --output-dir %t/lstm-jit > %t/lstm.txt
// RUN: red-run %examples/lstm_classifier.mlir --random --seed 1 --engine interp --output-dir %t/lstm-interp >> %t/lstm.txt
// RUN: filecheck %s --check-prefix=CHECK-SUMMARY --input-file %t/lstm.txt
// RUN: python %S/Inputs/compare_results.py %t/lstm-jit %t/lstm-interp | filecheck %s --check-prefix=CHECK-AGREE
// RUN: red-run %examples/gpt_decoder.mlir --random --seed 2 --output-dir %t/gpt-jit > %t/gpt.txt
// RUN: red-run %examples/gpt_decoder.mlir --random --seed 2 --engine interp --output-dir %t/gpt-interp >> %t/gpt.txt
// RUN: filecheck %s --check-prefix=CHECK-SUMMARY --input-file %t/gpt.txt
// RUN: python %S/Inputs/compare_results.py %t/gpt-jit %t/gpt-interp | filecheck %s --check-prefix=CHECK-AGREE
// CHECK-SUMMARY:     {{^}}result0: shape [[SHAPE:[0-9x]+]] dtype float32 min [[MIN:-?[0-9]+]].{{[0-9]+}} max [[MAX:-?[0-9]+]]{{(\.[0-9]+)?}} mean {{[-0-9.e]+}} first [
// CHECK-SUMMARY:     {{^}}result0: shape [[SHAPE]] dtype float32 min [[MIN]].{{[0-9]+}} max [[MAX]]{{(\.[0-9]+)?}} mean {{[-0-9.e]+}} first [
// CHECK-SUMMARY-NOT: result1
// CHECK-AGREE:       {{^}}result0.npy: agree
// CHECK-AGREE-NOT:   differ

func.func @main(%x: tensor<?xf32>) -> tensor<?xf32> {
  %y = red.exp %x : tensor<?xf32>
  func.return %y : tensor<?xf32>
}
