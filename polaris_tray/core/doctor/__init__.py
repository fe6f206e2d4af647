"""The doctor: "why am I offline?" answered link by link (configuration, miner id, keyring, DNS, proxy, TCP,
TLS, HTTP, the orchestrator's verdict, the clock, the GPU readers), one line each with its fix.

Qt-free: the CLI (--doctor) and the status window's Diagnose dialog both call run_doctor() and show its
lines. Every network step is bounded, and the walk as a whole has a deadline, so a silent DNS or a
dripping server cannot hold it longer than a heartbeat would be held.
"""

from polaris_tray.core.doctor.report import Check, Mark, exit_code, render
from polaris_tray.core.doctor.walk import DoctorInput, run_doctor

__all__ = ["Check", "DoctorInput", "Mark", "exit_code", "render", "run_doctor"]
