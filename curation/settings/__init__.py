"""Settings: one environment-driven base module and thin dev/test/prod overrides."""
