"""Polaris Tray: keeps a compute provider's machine visible to the Polaris orchestrator."""

__version__ = "0.1.0"
APP_NAME = "polaris-tray"
APP_DISPLAY_NAME = "Polaris Tray"
