"""convert-to-llvm in parts: one module of conversion rules per source dialect."""
