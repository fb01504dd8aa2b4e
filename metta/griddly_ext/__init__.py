"""Everything that touches Griddly: GDY documents, validation, procedural levels, the engine loop.

Nothing in this package knows about Sample Factory or torch.
"""
