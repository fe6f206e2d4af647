"""What an attempt's outcome means: its kind, the link state it implies, and the words the UI shows."""
