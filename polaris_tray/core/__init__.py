"""Everything that decides and does, with no Qt import: the shell and headless mode both stand on it."""
