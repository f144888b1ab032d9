"""Pure cores of serving: no Django imports. Engines, dynamic batching, traffic assignment
and the experiment statistics; Django code calls them and tests call them directly."""
