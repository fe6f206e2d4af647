"""What the app writes to disk: private paths, the attempt history, the log, and the masking they share."""
