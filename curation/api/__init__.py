"""The JSON API (django-ninja) at /api/: what the pages do, for scripts."""

from curation.api.app import api

__all__ = ["api"]
