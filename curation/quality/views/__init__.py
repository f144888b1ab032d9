"""Data-quality pages; every view checks the user's role through curation.permissions."""
