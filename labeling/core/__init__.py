"""Pure-Python pieces of the Label Studio integration (no Django, no SDK)."""
