"""Services: every write in the curation domain goes through a function here."""
