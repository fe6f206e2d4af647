"""The orchestrator's HeartbeatRequest model as documented, checked the way FastAPI reports errors.

Used by the demo orchestrator and by the tests: one definition of "valid for the orchestrator".
"""

from __future__ import annotations

from datetime import datetime

_NUMBER = (int, float)


def _is_number(value) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool)


def _is_datetime(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


_SYSTEM_INFO = {
    "hostname": (str, "string_type", "Input should be a valid string"),
    "ip_address": (str, "string_type", "Input should be a valid string"),
    "os_version": (str, "string_type", "Input should be a valid string"),
    "uptime": (_is_number, "float_type", "Input should be a valid number"),
    "last_boot": (_is_datetime, "datetime_type", "Input should be a valid datetime"),
}
_METRICS = {
    "cpu_usage": (_is_number, "float_type", "Input should be a valid number"),
    "memory_usage": (_is_number, "float_type", "Input should be a valid number"),
    "disk_usage": (_is_number, "float_type", "Input should be a valid number"),
    "network_latency": (_is_number, "float_type", "Input should be a valid number"),
}
_OPTIONAL_METRICS = {
    "temperature": (_is_number, "float_type", "Input should be a valid number"),
    "gpu_usage": (_is_number, "float_type", "Input should be a valid number"),
    "active_processes": (
        lambda v: isinstance(v, int) and not isinstance(v, bool),
        "int_type",
        "Input should be a valid integer",
    ),
}


def _check(errors: list, loc: tuple, value, rule) -> None:
    test, kind, msg = rule
    ok = isinstance(value, test) if isinstance(test, type) else test(value)
    if not ok:
        errors.append({"loc": ["body", *loc], "msg": msg, "type": kind})


def _object(errors: list, loc: tuple, value) -> bool:
    if not isinstance(value, dict):
        errors.append(
            {"loc": ["body", *loc], "msg": "Input should be a valid dictionary", "type": "dict_type"}
        )
        return False
    return True


def _missing(errors: list, loc: tuple) -> None:
    errors.append({"loc": ["body", *loc], "msg": "Field required", "type": "missing"})


def validate_heartbeat(body) -> list[dict]:
    """FastAPI-style error list; empty when the body is a valid HeartbeatRequest."""
    errors: list[dict] = []
    if not _object(errors, (), body):
        return errors
    for name, rule in (
        ("timestamp", (_is_datetime, "datetime_type", "Input should be a valid datetime")),
        ("version", (str, "string_type", "Input should be a valid string")),
    ):
        if name in body:
            _check(errors, (name,), body[name], rule)
        else:
            _missing(errors, (name,))
    if body.get("status") not in ("online", "offline", "degraded"):
        errors.append(
            {
                "loc": ["body", "status"],
                "msg": "Input should be 'online', 'offline' or 'degraded'",
                "type": "enum",
            }
        )
    outer = body.get("metrics")
    if "metrics" not in body:
        _missing(errors, ("metrics",))
        return errors
    if not _object(errors, ("metrics",), outer):
        return errors
    if not isinstance(outer.get("miner_id"), str) or not outer.get("miner_id"):
        errors.append(
            {
                "loc": ["body", "metrics", "miner_id"],
                "msg": "Input should be a valid string",
                "type": "string_type",
            }
        )
    _section(errors, outer, "system_info", _SYSTEM_INFO, {})
    _section(errors, outer, "metrics", _METRICS, _OPTIONAL_METRICS)
    if not isinstance(outer.get("resource_usage", {}), dict):
        errors.append(
            {
                "loc": ["body", "metrics", "resource_usage"],
                "msg": "Input should be a valid dictionary",
                "type": "dict_type",
            }
        )
    if not isinstance(outer.get("active_jobs", []), list):
        errors.append(
            {
                "loc": ["body", "metrics", "active_jobs"],
                "msg": "Input should be a valid list",
                "type": "list_type",
            }
        )
    return errors


def _section(errors: list, outer: dict, name: str, required: dict, optional: dict) -> None:
    loc = ("metrics", name)
    if name not in outer:
        _missing(errors, loc)
        return
    section = outer[name]
    if not _object(errors, loc, section):
        return
    for key, rule in required.items():
        if key in section:
            _check(errors, (*loc, key), section[key], rule)
        else:
            _missing(errors, (*loc, key))
    for key, rule in optional.items():
        if section.get(key) is not None:
            _check(errors, (*loc, key), section[key], rule)
