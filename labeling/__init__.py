"""Labeling: where Assay meets the annotators' tool (Label Studio).

The Label Studio adapter, project links, two-way sync and webhooks live here; the
annotations they bring in become `curation.Label` rows with origin ``annotator``.
"""
