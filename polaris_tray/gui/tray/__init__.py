"""The tray icon, its menu, the notifications, and watching for a panel to host it."""
