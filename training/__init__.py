"""Training: fine-tuning runs on approved dataset versions, evaluation and the model registry.

Runs start only from an approved `curation.DatasetVersion`; they use the same persisted
`curation.Run` rows for progress as imports and exports do.
"""
