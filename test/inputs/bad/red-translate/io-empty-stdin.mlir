// An empty input (stdin); expects <stdin>:1:1: error: input is empty: expected a module or operations
// ARGS: --mlir-to-llvmir - -o {out}
