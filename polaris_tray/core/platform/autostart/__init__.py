"""Start at login: a base (base.py), one small module per platform, and factory.py that picks one."""
