"""Assay's Django project package and its curation domain.

The curation domain owns projects, examples, labels, dataset versions and exports;
the project package (settings, urls, wsgi/asgi) lives here too, as the design card fixes it.
"""
