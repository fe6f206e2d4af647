"""The command line: one entry point for the tray, headless mode and the one-shot tools.

Parsing and console output live here; each mode is one module. Qt is imported only when the tray
starts, and the tray is handed plain LaunchOptions, never the argparse Namespace.
"""

from __future__ import annotations

import os
import sys

from polaris_tray.cli.args import build_parser, launch_options
from polaris_tray.console import EXIT_CONFIG, EXIT_FAILED, err
from polaris_tray.core.config.run_plan import InvalidOverride
from polaris_tray.service.hooks import server_only_options

DESKTOP_ONLY_ON_LINUX = (
    "--install-desktop and --uninstall-desktop are for Linux desktops (an XDG menu entry); nothing was "
    "written. On Windows and macOS use the installer's shortcut, or --autostart on to start at login."
)


NON_DISPLAY_PLATFORMS = ("offscreen", "minimal", "minimalegl", "vnc", "eglfs", "linuxfb", "vkkhrdisplay")


def qt_platforms(env) -> list[str]:
    """The platform plugins Qt will try, in order: QT_QPA_PLATFORM's list ("wayland;xcb", arguments after
    ':' dropped), else Qt 6's own choice on Linux: Wayland first when the session is one, then xcb."""
    named = [item.split(":", 1)[0].strip() for item in env.get("QT_QPA_PLATFORM", "").split(";")]
    if any(named):
        return [name for name in named if name]
    if env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE") == "wayland":
        return ["wayland", "xcb"]
    return ["xcb"]


def no_display_problem(env, platform: str) -> str | None:
    """Qt aborts (a core dump: "xcb-cursor0 is needed", "could not connect to display") when no display it
    tries answers: check the ones it will try, and say what is wrong and what to run instead."""
    if not platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    plugins = qt_platforms(env)
    if any(not name.startswith(("xcb", "wayland")) for name in plugins):
        return None  # offscreen, minimal, vnc, eglfs...: chosen on purpose, and Qt needs no display for them
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY") and not env.get("QT_QPA_PLATFORM"):
        return (
            "no graphical display here (DISPLAY and WAYLAND_DISPLAY are unset): start Polaris Tray from your "
            "desktop session, or run `polaris-tray --headless` on a server (docs/server.md)."
        )
    from polaris_tray.core.platform.display import probe_wayland, probe_x

    tried = []
    for name in plugins:
        if name.startswith("wayland"):
            reach = probe_wayland(env)
        elif env.get("DISPLAY"):
            reach = probe_x(env["DISPLAY"])
        else:
            tried.append("DISPLAY is unset")
            continue
        if reach.reachable:
            return None
        tried.append(reach.where)
    return (
        f"cannot reach the graphical display: {'; '.join(tried)}. Is the desktop session (or the ssh X "
        "forwarding) still there? Check DISPLAY and WAYLAND_DISPLAY, or run `polaris-tray --headless` on a "
        "server (docs/server.md)."
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.no_send and not args.doctor:
        err("--no-send goes with --doctor (it keeps the doctor from sending its one heartbeat).")
        return EXIT_CONFIG
    if args.once:
        from polaris_tray.cli.once import cmd_once

        return cmd_once(args)
    if args.doctor:
        from polaris_tray.cli.doctor import cmd_doctor

        return cmd_doctor(args)
    if args.headless:
        from polaris_tray.cli.headless import cmd_headless

        return cmd_headless(args)
    if args.set_miner_id:
        from polaris_tray.cli.miner_id import cmd_set_miner_id

        return cmd_set_miner_id(args)
    if args.forget_miner_id:
        from polaris_tray.cli.miner_id import cmd_forget_miner_id

        return cmd_forget_miner_id(args)
    if args.autostart:
        from polaris_tray.cli.autostart import cmd_autostart

        return cmd_autostart(args)
    if args.install_desktop or args.uninstall_desktop:
        if sys.platform in ("win32", "darwin"):  # XDG menus exist only on Linux and BSD desktops
            err(DESKTOP_ONLY_ON_LINUX)
            return EXIT_FAILED
        from polaris_tray.core.platform.desktop_install import main as desktop_install

        return desktop_install(args.install_desktop)
    if problem := server_only_options(args):
        err(problem)
        return EXIT_CONFIG
    try:  # checked before Qt starts, with the same message as the other modes
        options = launch_options(args)
    except InvalidOverride as exc:
        err(str(exc))
        return EXIT_CONFIG
    if args.quit:
        from polaris_tray.cli.quit import cmd_quit

        return cmd_quit(args)
    if problem := no_display_problem(os.environ, sys.platform):
        err(problem)
        return EXIT_CONFIG
    from polaris_tray.core.platform.session_bus import settle_session_bus

    settle_session_bus()  # before Qt connects: no autolaunched D-Bus daemon outlives the app
    from polaris_tray.gui.app import run_gui

    return run_gui(options)
