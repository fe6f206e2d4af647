"""The settings dialog, its layout, and the diagnosis it opens."""
