"""One run plan: saved settings + this run's overrides + the demo flag -> the values every runner uses.

The CLI, the headless runner and the tray all build their run from plan_run(), so a range, a default or a
demo rule is decided here once. Qt-free and non-blocking: the miner id, which may need the keyring, is
added by resolve_miner() wherever blocking is allowed (the console's main thread, the tray's worker).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

from polaris_tray.core.config.limits import (
    DEFAULT_LOG_LEVEL,
    RUN_INTERVAL_MAX_S,
    RUN_INTERVAL_MIN_S,
)
from polaris_tray.core.config.miner_id import HOW_TO_SET, resolve_miner_id
from polaris_tray.core.config.secret_store import SecretStore
from polaris_tray.core.config.settings import Settings
from polaris_tray.core.config.urls import InvalidServerUrl, normalize_server_url
from polaris_tray.core.storage.logs import LEVELS as LOG_LEVELS


class InvalidOverride(ValueError):
    """A command-line value (or a second launch's) that the run cannot use; the message says why."""


@dataclass(frozen=True)
class Overrides:
    """What the command line sets for this run only; None: the saved setting applies."""

    server_url: str | None = None
    interval_s: float | None = None
    log_level: str | None = None


@dataclass(frozen=True)
class LaunchOptions:
    """What the tray needs from its command line: the GUI never sees argparse."""

    overrides: Overrides = Overrides()
    demo: bool = False
    login: bool = False  # launched by the start-at-login entry: wait longer for the panel, open no dialog


@dataclass(frozen=True)
class DemoEndpoint:
    """The built-in demo orchestrator as a plan sees it (the core never imports the demo)."""

    url: str
    interval_s: float
    miner_id: str


@dataclass(frozen=True)
class RunPlan:
    server_url: str
    interval_s: float
    log_level: str
    start_beating: bool
    notifications: bool
    demo: bool = False
    miner_id: str | None = None  # None until resolve_miner() (or the demo) supplies one
    miner_origin: str = "none"  # "demo", "environment", "keyring", "legacy", "none"
    notices: tuple[str, ...] = field(default=(), compare=False)  # for the user, once
    keyring_error: str | None = None
    miner_error: str | None = None  # a source was there but refused (a readable credential file): stop

    @property
    def missing_miner_message(self) -> str:
        reason = f" The OS keyring: {self.keyring_error}" if self.keyring_error else ""
        return f"No miner id is configured.{reason} {HOW_TO_SET}"


def check_interval(value: object) -> float:
    """The range a run may use (--interval, a second launch); saved values obey settings.validate_interval."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidOverride(f"not a number of seconds: {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(seconds):
        raise InvalidOverride(f"not a number of seconds: {value!r}")
    if not RUN_INTERVAL_MIN_S <= seconds <= RUN_INTERVAL_MAX_S:
        raise InvalidOverride(
            f"the interval must be between {RUN_INTERVAL_MIN_S:g} and {RUN_INTERVAL_MAX_S:g} seconds"
        )
    return seconds


def check_overrides(
    server_url: object = None, interval_s: object = None, log_level: object = None
) -> Overrides:
    """Overrides from untrusted input (argv, a second launch's message), checked by the same rules."""
    url = level = None
    if server_url is not None:
        try:
            url = normalize_server_url(str(server_url))
        except InvalidServerUrl as exc:
            raise InvalidOverride(str(exc)) from None
    if log_level is not None:
        level = str(log_level).upper()
        if level not in LOG_LEVELS:
            raise InvalidOverride(f"the log level must be one of {', '.join(LOG_LEVELS)}")
    interval = None if interval_s is None else check_interval(interval_s)
    return Overrides(url, interval, level)


def plan_run(settings: Settings, overrides: Overrides, demo: DemoEndpoint | None = None) -> RunPlan:
    """The values of this run. The demo ignores saved settings and the keyring: it brings its own."""
    if demo is not None:
        return RunPlan(
            server_url=demo.url,
            interval_s=overrides.interval_s or demo.interval_s,
            log_level=overrides.log_level or DEFAULT_LOG_LEVEL,
            start_beating=True,
            notifications=settings.notifications,
            demo=True,
            miner_id=demo.miner_id,
            miner_origin="demo",
        )
    return RunPlan(
        server_url=overrides.server_url or settings.server_url,
        interval_s=overrides.interval_s or settings.interval_s,
        log_level=overrides.log_level or settings.log_level,
        start_beating=settings.start_heartbeat_on_launch,
        notifications=settings.notifications,
    )


def resolve_miner(
    plan: RunPlan, secrets: SecretStore | None = None, *, file_path: Path | None = None
) -> RunPlan:
    """The plan with its miner id: systemd credential, --miner-id-file, environment, keyring, then legacy
    files. Blocks on the keyring."""
    if plan.demo or plan.miner_id:
        return plan
    found = resolve_miner_id(secrets if secrets is not None else SecretStore(), file_path=file_path)
    return replace(
        plan,
        miner_id=found.miner_id,
        miner_origin=found.origin if found.miner_id else "none",
        notices=tuple(found.notices),
        keyring_error=found.keyring_error,
        miner_error=found.error,
    )


def handoff_message(overrides: Overrides) -> dict[str, object]:
    """What a second launch tells the running instance: show yourself, with these overrides (plain JSON)."""
    message: dict[str, object] = {"show": True}
    if overrides.server_url is not None:
        message["server_url"] = overrides.server_url
    if overrides.interval_s is not None:
        message["interval_s"] = overrides.interval_s
    return message


QUIT_MESSAGE = {"quit": True}


def overrides_from_message(message: object) -> Overrides:
    """A second launch's overrides, checked again here: the message comes from another process."""
    if not isinstance(message, dict):
        raise InvalidOverride("the message is not a JSON object")
    return check_overrides(message.get("server_url"), message.get("interval_s"))
