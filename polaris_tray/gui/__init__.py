"""The thin Qt shell: it renders core state and forwards user intent; the rules live in polaris_tray.core."""
