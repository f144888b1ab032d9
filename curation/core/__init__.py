"""Pure-Python cores of the curation domain: no Django imports, called by the services and
tested directly (hashing, splitting, file readers)."""
