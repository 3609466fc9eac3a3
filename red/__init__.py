"""red: a compiler that removes redundant computation from neural-network and LLM models."""
