"""Read-only queries about Label Studio links."""
