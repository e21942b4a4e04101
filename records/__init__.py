"""The records core: model, classification plan, retention, access rules, use cases and ports.

It imports no adapter (vault, indexer, web) and no flask, whoosh, watchdog, sqlcipher or
cryptography; `tests/test_layers.py` enforces that.
"""
