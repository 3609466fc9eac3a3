"""red.transforms.canonicalization."""
