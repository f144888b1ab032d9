"""Serving engines: one adapter module per engine, each implementing
`serving.core.engine.Engine` (the built-in transformers engine, vLLM)."""
