"""What the app asks of, or puts into, the desktop it runs on: the session bus, the applications menu."""
