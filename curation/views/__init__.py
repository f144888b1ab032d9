"""Server-rendered pages, one module per area. Each view validates its input, calls one
service or selector, and renders; errors a user can act on (`AssayError`) become
messages on the page, never a server error."""
