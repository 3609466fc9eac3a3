"""Caches that outlive one call: the compile cache and the prompt-prefix cache, on a local
directory, in memory, or in Redis."""
