"""--autostart on|off|status: the start-at-login entry from the console."""

from __future__ import annotations

from polaris_tray.console import EXIT_FAILED, EXIT_OK, err, out


def cmd_autostart(args) -> int:
    from polaris_tray.core.platform.autostart.base import AutostartError
    from polaris_tray.core.platform.autostart.factory import current_autostart

    entry = current_autostart()
    try:
        if args.autostart == "on":
            entry.enable()
        elif args.autostart == "off":
            entry.disable()
    except AutostartError as exc:
        err(f"{exc}")
        return EXIT_FAILED
    status = entry.status()
    out(f"{status.state.value}" + (f" {status.location}" if status.location else "") + "\n")
    return EXIT_OK
