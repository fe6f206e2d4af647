"""The orchestrator's checks on a heartbeat body, derived from the one typed definition the agent builds
from (core/values/payload.py) and reported the way FastAPI reports them (a 422's "detail" list).

A field the type adds is demanded here without a line changing: the checks are read from the classes'
fields and type hints, once per class (never per request). Used by the demo orchestrator and the tests.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable
from dataclasses import MISSING, fields, is_dataclass
from datetime import datetime
from functools import cache
from typing import Annotated, Literal, Union, get_args, get_origin, get_type_hints

from polaris_tray.core.values.payload import FREE_FORM, HeartbeatBody, MinLength

Loc = tuple[str | int, ...]
Error = dict[str, object]
Check = Callable[[object, Loc, list[Error]], None]

# FastAPI's (pydantic 2's) words for each way an input can be wrong: error type and message.
WORDS: dict[str, tuple[str, str]] = {
    "missing": ("missing", "Field required"),
    "str": ("string_type", "Input should be a valid string"),
    "float": ("float_type", "Input should be a valid number"),
    "int": ("int_type", "Input should be a valid integer"),
    "datetime": ("datetime_type", "Input should be a valid datetime"),
    "object": ("dict_type", "Input should be a valid dictionary"),
    "list": ("list_type", "Input should be a valid list"),
    "literal": ("enum", "Input should be {expected}"),
    "too_short": ("string_too_short", "String should have at least {min_length} character{plural}"),
    "json": ("json_invalid", "JSON decode error"),
}


def _error(
    errors: list[Error], what: str, loc: Loc, value: object, ctx: dict[str, object] | None = None, **fill: str
) -> None:
    """One error as FastAPI words it: type, loc, msg, input (the parent object for a missing field), ctx."""
    kind, msg = WORDS[what]
    error: Error = {"type": kind, "loc": list(loc), "msg": msg.format(**(ctx or {}), **fill), "input": value}
    if ctx:
        error["ctx"] = ctx
    errors.append(error)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


_SCALARS: dict[object, tuple[str, Callable[[object], bool]]] = {
    str: ("str", lambda v: isinstance(v, str)),
    float: ("float", _is_number),
    int: ("int", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    datetime: ("datetime", _is_datetime),
}


def _check_for(hint: object, free_form: bool = False) -> Check:
    """The check one field's type hint asks for."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType) and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        check = _check_for(inner, free_form)

        def nullable(value: object, loc: Loc, errors: list[Error]) -> None:
            if value is not None:
                check(value, loc, errors)

        return nullable
    if origin is Annotated:
        base, limits = args[0], [a for a in args[1:] if isinstance(a, MinLength)]
        check = _check_for(base)

        def limited(value: object, loc: Loc, errors: list[Error]) -> None:
            before = len(errors)
            check(value, loc, errors)
            if len(errors) == before and isinstance(value, str):
                for limit in limits:
                    if len(value) < limit.chars:
                        plural = "s" * (limit.chars != 1)
                        _error(errors, "too_short", loc, value, {"min_length": limit.chars}, plural=plural)

        return limited
    if origin is Literal:
        expected = _one_of(args)

        def literal(value: object, loc: Loc, errors: list[Error]) -> None:
            if value not in args:
                _error(errors, "literal", loc, value, {"expected": expected})

        return literal
    if origin is tuple:

        def array(value: object, loc: Loc, errors: list[Error]) -> None:
            if not isinstance(value, list):
                _error(errors, "list", loc, value)

        return array  # the orchestrator documents a list, not what it holds
    if isinstance(hint, type) and is_dataclass(hint):
        return _object_check(hint, free_form)
    what, test = _SCALARS[hint]

    def scalar(value: object, loc: Loc, errors: list[Error]) -> None:
        if not test(value):
            _error(errors, what, loc, value)

    return scalar


def _one_of(options: tuple[object, ...]) -> str:
    """pydantic's way to list a Literal's values: 'a', 'b' or 'c'."""
    words = [repr(o) for o in options]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


@cache
def _object_check(cls: type, free_form: bool = False) -> Check:
    """An object's check: its kind, then each field (a field without a default is required). A free-form
    object (resource_usage) is checked for its kind alone: the orchestrator takes any keys there."""
    hints = get_type_hints(cls, include_extras=True)
    rules: list[tuple[str, bool, Check]] = []
    if not free_form:
        for f in fields(cls):
            field_free = bool(f.metadata.get(FREE_FORM))
            required = f.default is MISSING and f.default_factory is MISSING and not field_free
            rules.append((f.name, required, _check_for(hints[f.name], field_free)))

    def check(value: object, loc: Loc, errors: list[Error]) -> None:
        if not isinstance(value, dict):
            _error(errors, "object", loc, value)
            return
        for name, required, field_check in rules:
            if name in value:
                field_check(value[name], (*loc, name), errors)
            elif required:
                _error(errors, "missing", (*loc, name), value)

    return check


def json_error(exc: ValueError) -> list[Error]:
    """A body that is no JSON: FastAPI names the offset where the parser gave up."""
    loc: Loc = ("body",)
    reason = str(exc)  # not UTF-8, say
    if isinstance(exc, json.JSONDecodeError):
        loc, reason = ("body", exc.pos), exc.msg
    errors: list[Error] = []
    _error(errors, "json", loc, {}, {"error": reason})
    return errors


def validate(body: object, body_type: type) -> list[Error]:
    """FastAPI-style error list for a body that should be a `body_type`; empty when it is one."""
    errors: list[Error] = []
    _object_check(body_type)(body, ("body",), errors)
    return errors


def validate_heartbeat(body: object) -> list[Error]:
    """FastAPI-style error list; empty when the body is a valid HeartbeatRequest."""
    return validate(body, HeartbeatBody)


_object_check(HeartbeatBody)  # read the type now: a field type with no check fails at import, not mid-request
