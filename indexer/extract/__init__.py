"""Text extraction, one module per format, run in sandboxed worker processes."""
