"""Pure-Python quality checks (no Django): label issues, duplicates, outliers and
expectation suites. Heavy libraries are imported inside the functions that use them."""
