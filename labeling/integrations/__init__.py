"""Adapters to external systems; each is the only importer of its SDK."""
