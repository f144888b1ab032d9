"""Weak-supervision pages: the overview (LFs, analysis, label model), the LF editor with
its live preview, and the buttons that start runs."""
