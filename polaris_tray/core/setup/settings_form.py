"""The settings form without Qt: what the fields show, what is wrong with them, what OK does, and the
words it says.

The dialog renders a FormState and hands FormValues back; every rule lives here, testable without a
display. probe_keyring, store_miner_id and test_connection block: run them off the GUI thread.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from polaris_tray.core.config.limits import SAVED_INTERVAL_MAX_S as MAX_INTERVAL_S
from polaris_tray.core.config.limits import SAVED_INTERVAL_MIN_S as MIN_INTERVAL_S
from polaris_tray.core.config.miner_id import (
    ENV_VAR,
    InvalidMinerId,
    read_legacy_miner_id,
    validate_miner_id,
)
from polaris_tray.core.config.secret_store import SecretStore, SecretStoreError
from polaris_tray.core.config.settings import InvalidSetting, Settings, SettingsStore, validate
from polaris_tray.core.config.urls import InvalidServerUrl, normalize_server_url
from polaris_tray.core.platform.autostart.base import Autostart, AutostartError
from polaris_tray.core.setup.connection_test import ConnectionTest, TestResult
from polaris_tray.core.storage.logs import register_secret
from polaris_tray.core.values.redact import mask_secret

FLAGS = {"server_url": "--server-url", "interval_s": "--interval"}
LABELS = {"server_url": "Server", "interval_s": "Heartbeat interval"}
PLACEHOLDER_NEW = "paste the id that polaris register gave you"
PLACEHOLDER_KEEP = "leave empty to keep the stored id"
NOTE_KEYRING_ONLY = "Kept only in the OS keyring, never in a file."
NOTE_NEW_ID = "a new id typed here is kept only in the OS keyring, never in a file."
WELCOME = (
    "<b>Welcome to Polaris Tray.</b> Paste your miner id and press Enter: the icon turns green once "
    "Polaris counts this computer online."
)
WHERE_IS_MY_ID = (
    "Where do I get my miner id? Run <code>polaris register</code> with the Polaris CLI, or see "
    "<code>~/.polaris/user_info.json</code> (Import reads only its miner_id)."
)
ADVANCED = "A&dvanced: server, interval, log level"
SAVE_SERVER = "Save this server for ne&xt time"
SAVE_SERVER_NOTE = (
    'Server set by --server-url. Keep "Save this server for next time" ticked to use it at the next '
    "start too; untick it to use it for this run only."
)
NEED_MINER_ID = "Enter your miner id: none is stored yet, so the heartbeat cannot start without it."
NOTHING_SAVED = "Fix the values marked in red first: nothing was saved."
DEMO_NOTE = (
    "<b>Demo mode:</b> these are the values of the built-in demo orchestrator and nothing here is "
    "saved. Quit and start Polaris Tray without --demo to change the settings."
)
WELCOME_NO_KEYRING = (
    "<b>Welcome to Polaris Tray.</b> It needs your miner id (from <code>polaris register</code>); "
    "this computer has no keyring to keep it in, so see below for what works here."
)


def no_keyring_help() -> str:
    """What works without a keyring: the id cannot be kept, so the dialog offers the ways that can."""
    return (
        "No usable OS keyring, so a miner id typed here could not be kept. Start Polaris Tray with "
        f"{ENV_VAR} set (this session only) or with --miner-id-file PATH (a file only you can read), "
        "or start and unlock a keyring (GNOME Keyring, KWallet) and reopen Settings."
    )


class InEffect(Protocol):
    """Values neither saved nor overridden, e.g. the demo orchestrator's (the worker's config has them)."""

    @property
    def server_url(self) -> str: ...
    @property
    def interval_s(self) -> float: ...


@dataclass(frozen=True)
class FormValues:
    """What the fields hold: the dialog reads these off its widgets."""

    server_url: str
    miner_id: str
    interval_s: float
    start_on_launch: bool
    start_at_login: bool
    notifications: bool
    log_level: str
    save_server: bool = False  # "Save this server for next time": a --server-url of this run is saved


@dataclass(frozen=True)
class FormState:
    """Everything the dialog shows on opening, decided before the user types."""

    values: FormValues
    intro: str  # rich text above the form, "" for none
    override_note: str  # "Server set by --server-url for this run", "" for none
    miner_placeholder: str
    miner_note: str
    miner_editable: bool
    read_only: bool  # demo mode: look, don't touch
    interval_min: float  # the saved range, widened to show a shorter --interval of this run
    interval_max: float  # ... or a longer one (a field must not clamp a value it merely shows)
    advanced_open: bool = False  # server, interval and log level shown: a command-line override is in force
    offer_save_server: bool = False  # a --server-url the user may save (the box is ticked on a first run)


@dataclass(frozen=True)
class Problems:
    url: str | None = None
    miner: str | None = None

    @property
    def ok(self) -> bool:
        return not (self.url or self.miner)


@dataclass(frozen=True)
class SaveResult:
    """settings None: nothing was saved and the reason is in problems or message."""

    settings: Settings | None
    miner_id: str | None = None  # to store in the keyring next; None keeps the stored one
    problems: Problems = Problems()
    message: str = ""
    error: bool = False


class SettingsForm:
    def __init__(
        self, store: SettingsStore, autostart: Autostart, secrets: SecretStore | None = None
    ) -> None:
        self.store = store
        self.autostart = autostart
        self.secrets = secrets or SecretStore()
        self.settings = Settings()
        self.overrides: MutableMapping[str, object] = {}
        self.loaded: FormValues | None = None
        self.miner_in_effect = False
        self.keyring_problem: str | None = None
        self.demo = False
        self.offer_save_server = False

    # --- opening
    def load(
        self,
        settings: Settings,
        overrides: MutableMapping[str, object] | None = None,
        *,
        first_run: bool = False,
        miner_masked: str | None = None,
        demo: bool = False,
        in_effect: InEffect | None = None,
    ) -> FormState:
        """The fields show the values IN EFFECT: an override of this run wins over the saved value.

        overrides is the caller's own mapping (field -> value or None): save() sets a field the user
        changed to None there, so the caller's run follows the user. in_effect (anything with server_url
        and interval_s) gives values neither saved nor overridden, e.g. the demo orchestrator's.
        """
        self.settings, self.demo = settings, demo
        self.overrides = overrides if overrides is not None else {}
        self.keyring_problem = None
        self.miner_in_effect = bool(miner_masked) and miner_masked != mask_secret(None)
        url = self._effective("server_url", in_effect)
        interval = float(self._effective("interval_s", in_effect))
        # a server named on the command line is for this run only unless the user says to keep it
        self.offer_save_server = first_run and not demo and self.overrides.get("server_url") is not None
        self.loaded = FormValues(
            server_url=str(url),
            miner_id="",
            interval_s=interval,
            start_on_launch=settings.start_heartbeat_on_launch,
            start_at_login=self._autostart_enabled(),
            notifications=settings.notifications,
            log_level=settings.log_level,
            save_server=self.offer_save_server,
        )
        return FormState(
            values=self.loaded,
            intro=DEMO_NOTE if demo else WELCOME if first_run else "",
            override_note="" if demo else self.override_note(),
            miner_placeholder="" if demo else PLACEHOLDER_KEEP if self.miner_in_effect else PLACEHOLDER_NEW,
            miner_note=self.miner_note(miner_masked),
            miner_editable=not demo,
            read_only=demo,
            interval_min=min(MIN_INTERVAL_S, interval),
            interval_max=max(MAX_INTERVAL_S, interval),
            advanced_open=demo or bool(self.active_overrides()),  # the demo's own server is the point
            offer_save_server=self.offer_save_server,
        )

    def _effective(self, name: str, in_effect: InEffect | None) -> Any:
        value = self.overrides.get(name)
        if value is None and in_effect is not None:
            value = getattr(in_effect, name, None)
        return getattr(self.settings, name) if value is None else value

    def _autostart_enabled(self) -> bool:
        try:
            return bool(self.autostart.is_enabled())
        except (OSError, AutostartError):
            return False

    def active_overrides(self) -> list[str]:
        return [name for name in FLAGS if self.overrides.get(name) is not None]

    def override_note(self) -> str:
        if self.offer_save_server and self.active_overrides() == ["server_url"]:
            return SAVE_SERVER_NOTE
        parts = [
            f"{LABELS[name]}{f' {self.overrides[name]:g} s' if name == 'interval_s' else ''} set by "
            f"{FLAGS[name]} for this run"
            for name in self.active_overrides()
        ]
        if not parts:
            return ""
        return "; ".join(parts) + ". OK leaves that as it is; a value you change is saved and used."

    def miner_note(self, miner_masked: str | None = None) -> str:
        if self.demo:
            return f"The demo uses its own id ({miner_masked}); your keyring is not touched."
        if self.keyring_problem:
            in_use = f"In use: {miner_masked} — " if self.miner_in_effect else ""
            return in_use + no_keyring_help()
        if self.miner_in_effect:
            return f"In use: {miner_masked} — {NOTE_NEW_ID}"
        return NOTE_KEYRING_ONLY

    def probe_keyring(self) -> str | None:
        """Blocking: can an id typed here be kept? The reason when not (remembered for the notes)."""
        try:
            self.secrets.get()
        except SecretStoreError as exc:
            self.keyring_problem = str(exc)
        else:
            self.keyring_problem = None
        return self.keyring_problem

    @property
    def miner_id_required(self) -> bool:
        """Nothing in effect and a keyring to keep it in: OK without an id would leave a grey app."""
        return not (self.miner_in_effect or self.keyring_problem or self.demo)

    # --- as the user types
    def check(self, values: FormValues) -> Problems:
        url = miner = None
        try:
            normalize_server_url(values.server_url)
        except InvalidServerUrl as exc:
            url = str(exc)
        if values.miner_id.strip():
            try:
                validate_miner_id(values.miner_id)
            except InvalidMinerId as exc:
                miner = str(exc)
        return Problems(url, miner)

    def check_for_save(self, values: FormValues) -> Problems:
        """check(), plus the rule that only bites on OK: an empty id when none is stored."""
        problems = self.check(values)
        if problems.miner is None and self.miner_id_required and not values.miner_id.strip():
            problems = replace(problems, miner=NEED_MINER_ID)
        return problems

    def import_legacy(self, path: str | os.PathLike[str]) -> str | None:
        """Only miner_id is read from the Polaris CLI's file; None when it holds no valid one."""
        value = read_legacy_miner_id(path)
        if value:
            register_secret(value)
        return value

    # --- OK / Apply
    def to_settings(self, values: FormValues) -> Settings:
        """Saved values for fields the user left alone: an override shown in a field is not saved."""
        loaded, kept = self.loaded or values, {}
        for name in self.active_overrides():
            if getattr(values, name) == getattr(loaded, name) and not self._saves_server(name, values):
                kept[name] = getattr(self.settings, name)
        return replace(  # fields the dialog does not show (warn_on_stop) keep their saved value
            self.settings,
            server_url=kept.get("server_url", values.server_url),
            interval_s=float(kept.get("interval_s", values.interval_s)),
            start_heartbeat_on_launch=values.start_on_launch,
            notifications=values.notifications,
            log_level=values.log_level,
        )

    def _saves_server(self, name: str, values: FormValues) -> bool:
        """The command line's server, kept for next time by "Save this server for next time"."""
        return name == "server_url" and self.offer_save_server and values.save_server

    def save(self, values: FormValues) -> SaveResult:
        """Settings file and start-at-login now; the miner id (if typed) is for store_miner_id next."""
        if self.demo:
            return SaveResult(None, message="Demo mode: nothing is saved.")
        problems = self.check_for_save(values)
        if not problems.ok:
            return SaveResult(None, problems=problems, message=NOTHING_SAVED, error=True)
        try:
            settings = validate(self.to_settings(values))
            self.store.save(settings)
        except (InvalidSetting, OSError) as exc:
            return SaveResult(None, message=f"Not saved: {exc}", error=True)
        loaded = self.loaded or values
        for name in self.active_overrides():
            if getattr(values, name) != getattr(loaded, name) or self._saves_server(name, values):
                self.overrides[name] = None  # the user chose a value (or kept it): this run follows it
        message, error = "", False
        if values.start_at_login != self._autostart_enabled():
            try:
                self.autostart.enable() if values.start_at_login else self.autostart.disable()
            except AutostartError as exc:
                message, error = f"Saved, but start at login could not be changed: {exc}", True
        self.settings = settings
        self.loaded = replace(values, miner_id="")
        self.offer_save_server = False  # asked once: a later Apply in this opening follows the field
        miner = values.miner_id.strip()
        miner_id = validate_miner_id(miner) if miner else None
        if miner_id:
            register_secret(miner_id)
        return SaveResult(settings, miner_id, message=message, error=error)

    def store_miner_id(self, miner_id: str) -> None:
        """Blocking keyring write; raises SecretStoreError with a message that says what to do."""
        self.secrets.set(miner_id)
        self.miner_in_effect = True

    # --- Test connection
    def connection_test(self, url_text: str, typed: str) -> ConnectionTest:
        """Test connection, to run off the GUI thread; Quit cancels it."""
        return ConnectionTest(url_text, typed, self.secrets)

    def test_connection(self, url_text: str, typed: str) -> TestResult:
        """Blocking: one real heartbeat with the typed id, else the one the agent would use."""
        return self.connection_test(url_text, typed).run()
