"""Settings that survive anything: validated on load, written atomically, a corrupt file kept aside.

The miner id is never a setting; it lives in the OS keyring only.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from polaris_tray.core.config.urls import DEFAULT_SERVER_URL, InvalidServerUrl, normalize_server_url
from polaris_tray.core.storage.logs import LEVELS
from polaris_tray.core.storage.paths import config_dir, write_private_file

log = logging.getLogger(__name__)

SETTINGS_FILE_NAME = "settings.json"
MIN_INTERVAL_S = 10.0  # what a user may save; the command line allows shorter runs for tests
MAX_INTERVAL_S = 3600.0
DEFAULT_INTERVAL_S = 30.0


@dataclass
class Settings:
    server_url: str = DEFAULT_SERVER_URL
    interval_s: float = DEFAULT_INTERVAL_S
    start_heartbeat_on_launch: bool = True
    notifications: bool = True
    log_level: str = "INFO"
    warn_on_stop: bool = True  # ask before Stop: the orchestrator counts the miner offline 45 s later


class InvalidSetting(ValueError):
    pass


def validate_interval(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidSetting("The heartbeat interval must be a number of seconds.")
    if not (MIN_INTERVAL_S <= value <= MAX_INTERVAL_S):
        raise InvalidSetting(
            f"The heartbeat interval must be between {MIN_INTERVAL_S:g} s and {MAX_INTERVAL_S:g} s."
        )
    return float(value)


def _validate_field(name: str, value):
    if name == "server_url":
        if not isinstance(value, str):
            raise InvalidSetting("The server URL must be text.")
        try:
            return normalize_server_url(value)
        except InvalidServerUrl as exc:
            raise InvalidSetting(str(exc)) from None
    if name == "interval_s":
        return validate_interval(value)
    if name == "log_level":
        if value not in LEVELS:
            raise InvalidSetting(f"The log level must be one of {', '.join(LEVELS)}.")
        return value
    if not isinstance(value, bool):
        raise InvalidSetting(f"{name} must be true or false.")
    return value


def validate(settings: Settings) -> Settings:
    """A checked copy, or InvalidSetting naming the first bad value."""
    return Settings(**{f.name: _validate_field(f.name, getattr(settings, f.name)) for f in fields(Settings)})


@dataclass
class LoadResult:
    settings: Settings
    warnings: list[str] = field(default_factory=list)
    kept_aside: Path | None = None


class SettingsStore:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory) if directory else config_dir()
        self.path = self.directory / SETTINGS_FILE_NAME

    def load(self) -> LoadResult:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return LoadResult(Settings())
        except OSError as exc:
            return self._set_aside(f"The settings file could not be read ({exc.strerror}).")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return self._set_aside("The settings file was corrupt.")
        if not isinstance(data, dict):
            return self._set_aside("The settings file did not hold settings.")
        values, warnings = {}, []
        if "miner_id" in data:
            warnings.append(
                "A miner id found in the settings file was ignored: it belongs in the OS keyring."
            )
        for f in fields(Settings):
            if f.name not in data:
                continue
            try:
                values[f.name] = _validate_field(f.name, data[f.name])
            except InvalidSetting as exc:
                warnings.append(f"{exc} The default was used instead.")
        result = LoadResult(Settings(**values), warnings)
        if warnings:
            result.kept_aside = self._keep_copy_aside()
        for warning in warnings:
            log.warning("%s", warning)
        return result

    def save(self, settings: Settings) -> None:
        checked = validate(settings)
        text = json.dumps(asdict(checked), indent=2, sort_keys=True) + "\n"
        write_private_file(self.path, text.encode("utf-8"))

    def _aside_path(self) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        candidate = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while candidate.exists():
            candidate = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
            n += 1
        return candidate

    def _keep_copy_aside(self) -> Path | None:
        aside = self._aside_path()
        try:
            write_private_file(aside, self.path.read_bytes())
            return aside
        except OSError:
            return None

    def _set_aside(self, why: str) -> LoadResult:
        aside = self._aside_path()
        try:
            os.replace(self.path, aside)
            message = f"{why} It was kept as {aside.name} and the defaults are in use."
        except OSError:
            aside = None
            message = f"{why} The defaults are in use."
        log.warning("%s", message)
        return LoadResult(Settings(), [message], aside)
