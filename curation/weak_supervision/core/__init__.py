"""Pure-Python weak-supervision cores (no Django): the declarative labeling-function
compiler and its vectorised applier, Python LF loading, LF analysis, and the label models.

Votes are label *indices* here (``-1`` abstains); the services map them to label names.
"""

ABSTAIN = -1
