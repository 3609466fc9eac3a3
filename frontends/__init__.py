"""red.frontends."""
