"""red.tools."""
