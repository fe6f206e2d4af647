"""The settings dialog's model: the form's rules and words, and the connection test it runs (above the
heartbeat it probes with)."""
