"""--doctor: the chain from this machine to the orchestrator checked link by link, printed as it goes.

Exit 0 when nothing is broken (warnings allowed), 1 when a link is broken. --no-send: no heartbeat at all.
"""

from __future__ import annotations

from polaris_tray.console import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, err, out


def cmd_doctor(args) -> int:
    from polaris_tray.core.doctor import DoctorInput, exit_code, render, run_doctor
    from polaris_tray.core.doctor.report import summary

    # A bad --server-url is not refused here: the configuration line says what is wrong with it.
    inp = DoctorInput(
        server_url=args.server_url,
        miner_id_file=getattr(args, "miner_id_file", None),
        send=not args.no_send,
    )
    out(f"Polaris Tray doctor{' (--no-send: no heartbeat is sent)' if args.no_send else ''}\n")
    try:
        checks = run_doctor(inp, report=lambda check: out(render([check])))
    except KeyboardInterrupt:
        err("cancelled.")
        return EXIT_INTERRUPTED
    out(summary(checks) + "\n")
    return EXIT_OK if exit_code(checks) == 0 else EXIT_FAILED
