"""Pass infrastructure shared by the transforms and the lowering: the pass manager, its
instrumentations, and the registry of passes by name with pipeline parsing."""
