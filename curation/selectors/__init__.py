"""Selectors: every read that is more than a one-line query lives here."""
