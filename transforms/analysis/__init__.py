"""red.transforms.analysis."""
