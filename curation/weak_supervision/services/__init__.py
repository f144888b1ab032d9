"""Weak-supervision writes: labeling functions, applying them, fitting the label model,
and sending uncertain examples for review. Import from the submodules."""
