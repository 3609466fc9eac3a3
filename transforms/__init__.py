"""red.transforms."""
