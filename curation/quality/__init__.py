"""Data quality: label issues (cleanlab), duplicates, outliers, Great Expectations rules,
and the reviewable findings they produce (Django app label ``quality``)."""
