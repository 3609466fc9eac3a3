// Inputs that are not MLIR text: an error on stderr, exit code 1, no traceback.
// RUN: rm -rf %t && mkdir -p %t

// An empty file (or empty stdin) is an error at 1:1.
// RUN: printf '' > %t/empty.mlir
// RUN: not red-opt %t/empty.mlir 2>&1 | filecheck %s --check-prefix=CHECK-BLANK
// RUN: not red-opt - < %t/empty.mlir 2>&1 | filecheck %s --check-prefix=CHECK-BLANK-STDIN
// CHECK-BLANK-NOT: Traceback
// CHECK-BLANK: {{^.*}}empty.mlir:1:1: error: input is empty: expected a module or operations
// CHECK-BLANK-NOT: {{.}}
// CHECK-BLANK-STDIN: {{^}}<stdin>:1:1: error: input is empty: expected a module or operations
// CHECK-BLANK-STDIN-NOT: {{.}}

// A file holding only comments (this one, read from stdin) is an empty module, as in mlir-opt.
// RUN: red-opt < %s | filecheck %s --check-prefix=CHECK-COMMENTS
// CHECK-COMMENTS: builtin.module {
// CHECK-COMMENTS-NEXT: }
// CHECK-COMMENTS-NOT: {{.}}

// A missing file, and a directory, are errors without a location.
// RUN: not red-opt %t/missing.mlir 2>&1 | filecheck %s --check-prefix=CHECK-MISSING
// RUN: not red-opt %t 2>&1 | filecheck %s --check-prefix=CHECK-DIRECTORY
// CHECK-MISSING: {{^}}error: could not open input file '{{.*}}missing.mlir': No such file or directory
// CHECK-MISSING-NOT: {{.}}
// CHECK-DIRECTORY: {{^}}error: could not open input file '{{.*}}': Is a directory
// CHECK-DIRECTORY-NOT: {{.}}

// Binary garbage is located at its first byte that is not UTF-8 (the 9th).
// RUN: printf '\177ELF\002\001\001\000\377\376\000garbage' > %t/garbage.mlir
// RUN: not red-opt %t/garbage.mlir 2>&1 | filecheck %s --check-prefix=CHECK-BINARY
// CHECK-BINARY-NOT: Traceback
// CHECK-BINARY: garbage.mlir:1:9: error: input is not valid UTF-8 text (byte 0xff); is it a binary file?
// CHECK-BINARY-NOT: {{.}}

// Control characters in UTF-8 text are located and printed escaped, also at the very start.
// RUN: printf 'func.func @f() {\n  \001\n}\n' > %t/control.mlir
// RUN: not red-opt %t/control.mlir 2>&1 | filecheck %s --check-prefix=CHECK-CONTROL
// RUN: printf '\000\000' > %t/nul.mlir
// RUN: not red-opt %t/nul.mlir 2>&1 | filecheck %s --check-prefix=CHECK-NUL
// CHECK-CONTROL-NOT: Traceback
// CHECK-CONTROL: control.mlir:2:3: error: Unexpected character: \x01
// CHECK-CONTROL-NOT: {{.}}
// CHECK-NUL-NOT: internal compiler error
// CHECK-NUL: nul.mlir:1:1: error: Unexpected character: \x00
// CHECK-NUL-NOT: {{.}}

// Syntax errors read from stdin are located in `<stdin>`.
// RUN: printf 'func.func @f() {\n  func.return %%%%x : f32\n}\n' | not red-opt 2>&1 | filecheck %s --check-prefix=CHECK-STDIN
// CHECK-STDIN: {{^}}<stdin>:2:15: error: use of undeclared SSA value name '%x'
