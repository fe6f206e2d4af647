"""--autostart on|off|status: the start-at-login entry from the console."""

from __future__ import annotations

from polaris_tray.console import EXIT_FAILED, EXIT_OK, err, out


def status_line(entry) -> str:
    """One line, its first word the state; it says so when the entry starts another copy or a program that
    is gone, with the command that points it here."""
    from polaris_tray.core.platform.autostart.base import AutostartState

    status = entry.status()
    where = f" {status.location}" if status.location else ""
    elsewhere = entry.elsewhere(status)
    if elsewhere:
        return f"enabled, but starts {elsewhere}: run --autostart on to point it here ({status.location})"
    if status.state is AutostartState.STALE:
        old = getattr(entry, "old_path", None)
        if old is not None and status.location == str(old):
            return f"stale{where} (the old entry name): run --autostart on to renew it"
        program = f" starts {status.program}, which is not there;" if status.program else " is unreadable;"
        return f"stale{where}{program} run --autostart on to point it here"
    return f"{status.state.value}{where}"


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
    out(status_line(entry) + "\n")
    return EXIT_OK
