"""Label Studio services: linking a project, pushing tasks, pulling annotations."""
