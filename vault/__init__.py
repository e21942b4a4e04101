"""The vault: keys and key slots, sealed objects, the SQLCipher catalogue, the inbox watcher."""
