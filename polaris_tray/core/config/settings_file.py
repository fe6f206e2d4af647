"""Reading settings.json as hostile input: bounded in size and time, regular files only, and a bad file set
aside once (named by its content), with any miner id stripped from the copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from pathlib import Path

from polaris_tray.core.storage.paths import write_private_file

_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no CRLF translation, no end of file at Ctrl-Z

MAX_BYTES = 64 * 1024  # a real settings file is a few hundred bytes
_ID_VALUE = re.compile(rb'("miner_id"\s*:\s*)"(?:[^"\\]|\\.)*"?')


class NotRegular(OSError):
    """A FIFO, socket, device or directory at the settings path: not read, not moved, not ours to touch."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device or special file"


def read_bounded(path: Path, limit: int = MAX_BYTES) -> tuple[bytes, int]:
    """(at most limit bytes, the file's size). O_NONBLOCK: opening a FIFO with no writer cannot hang."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | _BINARY)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegular(f"a {_kind(st.st_mode)}, not a file")
        chunks, left = [], limit
        while left > 0:
            chunk = os.read(fd, min(left, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks), st.st_size
    finally:
        os.close(fd)


def parse(raw: bytes) -> object:
    """The JSON value, or ValueError for anything else (bad UTF-8, bad JSON, nesting too deep to parse)."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(str(exc)) from None


def strip_miner_id(raw: bytes) -> bytes:
    """What is kept aside: a parseable dict loses its miner_id key, anything else has the value masked."""
    try:
        data = parse(raw)
    except ValueError:
        data = None
    if isinstance(data, dict):
        if "miner_id" not in data:
            return raw
        data.pop("miner_id")
        return (json.dumps(data, indent=2) + "\n").encode("utf-8")
    return _ID_VALUE.sub(rb'\1"<removed>"', raw)


def keep_aside(path: Path, raw: bytes) -> Path:
    """The stripped copy as NAME.corrupt-<content hash>: one bad file is kept once, not once per start."""
    kept = strip_miner_id(raw)
    aside = path.with_name(f"{path.name}.corrupt-{hashlib.sha256(kept).hexdigest()[:12]}")
    if not os.path.lexists(aside):
        write_private_file(aside, kept)
    return aside
