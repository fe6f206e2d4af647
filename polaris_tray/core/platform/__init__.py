"""What differs between operating systems: start at login, desktop integration."""
