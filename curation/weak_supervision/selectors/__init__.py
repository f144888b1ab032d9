"""Weak-supervision reads: LFs, the rows they run on, applications, fits, previews."""
