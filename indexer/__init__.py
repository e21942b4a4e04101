"""The indexer: sandboxed text extraction, multilingual analysis, a sealed Whoosh index, search."""
