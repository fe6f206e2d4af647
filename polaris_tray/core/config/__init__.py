"""What the user configured: settings, the server URL, the miner id and the keyring that holds it."""
