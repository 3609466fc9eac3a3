// Inputs that are not MLIR text: an error on stderr, exit code 1, no traceback.
// RUN: rm -rf %t && mkdir -p %t

// An empty file (or empty stdin) is an error at 1:1.
// RUN: printf '' > %t/empty.mlir
// RUN: not red-opt %t/empty.mlir 2>&1 | filecheck %s --check-prefix=EMPTY
// RUN: not red-opt - < %t/empty.mlir 2>&1 | filecheck %s --check-prefix=EMPTY-STDIN
// EMPTY-NOT: Traceback
// EMPTY: {{^.*}}empty.mlir:1:1: error: input is empty: expected a module or operations
// EMPTY-NOT: {{.}}
// EMPTY-STDIN: {{^}}<stdin>:1:1: error: input is empty: expected a module or operations
// EMPTY-STDIN-NOT: {{.}}

// A file holding only comments (this one, read from stdin) is an empty module, as in mlir-opt.
// RUN: red-opt < %s | filecheck %s --check-prefix=COMMENTS
// COMMENTS: builtin.module {
// COMMENTS-NEXT: }
// COMMENTS-NOT: {{.}}

// A missing file, and a directory, are errors without a location.
// RUN: not red-opt %t/missing.mlir 2>&1 | filecheck %s --check-prefix=MISSING
// RUN: not red-opt %t 2>&1 | filecheck %s --check-prefix=DIRECTORY
// MISSING: {{^}}error: could not open input file '{{.*}}missing.mlir': No such file or directory
// MISSING-NOT: {{.}}
// DIRECTORY: {{^}}error: could not open input file '{{.*}}': Is a directory
// DIRECTORY-NOT: {{.}}

// Binary garbage is located at its first byte that is not UTF-8 (the 9th).
// RUN: printf '\177ELF\002\001\001\000\377\376\000garbage' > %t/garbage.mlir
// RUN: not red-opt %t/garbage.mlir 2>&1 | filecheck %s --check-prefix=BINARY
// BINARY-NOT: Traceback
// BINARY: garbage.mlir:1:9: error: input is not valid UTF-8 text (byte 0xff); is it a binary file?
// BINARY-NOT: {{.}}

// Control characters in UTF-8 text are located and printed escaped, also at the very start.
// RUN: printf 'func.func @f() {\n  \001\n}\n' > %t/control.mlir
// RUN: not red-opt %t/control.mlir 2>&1 | filecheck %s --check-prefix=CONTROL
// RUN: printf '\000\000' > %t/nul.mlir
// RUN: not red-opt %t/nul.mlir 2>&1 | filecheck %s --check-prefix=NUL
// CONTROL-NOT: Traceback
// CONTROL: control.mlir:2:3: error: Unexpected character: \x01
// CONTROL-NOT: {{.}}
// NUL-NOT: internal compiler error
// NUL: nul.mlir:1:1: error: Unexpected character: \x00
// NUL-NOT: {{.}}

// Syntax errors read from stdin are located in `<stdin>`.
// RUN: printf 'func.func @f() {\n  func.return %%%%x : f32\n}\n' | not red-opt 2>&1 | filecheck %s --check-prefix=STDIN
// STDIN: {{^}}<stdin>:2:15: error: use of undeclared SSA value name '%x'
