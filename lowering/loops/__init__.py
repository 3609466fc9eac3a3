"""convert-red-to-loops in parts: the emitter, the fusion and buffer plan, and the lowering
rules of the red ops by family."""
