"""red.lowering."""
