"""The runtime kernel library: cache-blocked matmul with packed panels, matrix-vector and
batched matmul, vectorised row kernels, and the thread pool, built as LLVM IR with llvmlite
and compiled once per process (see each module)."""
