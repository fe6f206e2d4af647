"""The console's run plan: the core's plan_run() from this command line, with what went wrong printed."""

from __future__ import annotations

import argparse

from polaris_tray.cli.args import overrides_of
from polaris_tray.cli.report import config_error
from polaris_tray.console import err
from polaris_tray.core.config.run_plan import InvalidOverride, RunPlan, plan_run, resolve_miner


def start_demo():
    from polaris_tray.demo.server import DemoOrchestrator

    return DemoOrchestrator().start()


def console_plan(args: argparse.Namespace, *, once: bool, demo=None) -> RunPlan | int:
    """The plan with its miner id, or the exit code after saying what is missing. Blocks on the keyring."""
    from polaris_tray.core.config.settings import Settings, SettingsStore

    if demo is not None:
        try:
            return plan_run(Settings(), overrides_of(args), demo.endpoint())
        except InvalidOverride as exc:
            return config_error(str(exc), once)
    loaded = SettingsStore().load()
    for warning in loaded.warnings:
        err(f"{warning}")
    try:
        overrides = overrides_of(args)
    except InvalidOverride as exc:
        return config_error(str(exc), once)
    plan = resolve_miner(plan_run(loaded.settings, overrides), file_path=getattr(args, "miner_id_file", None))
    for notice in plan.notices:
        err(f"{notice}")
    if plan.miner_error:
        return config_error(plan.miner_error, once)
    if not plan.miner_id:
        return config_error(plan.missing_miner_message, once)
    return plan
