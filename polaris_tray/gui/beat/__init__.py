"""The heartbeat's side of the shell: the worker thread and what it waits on (keyring, wake, calls)."""
