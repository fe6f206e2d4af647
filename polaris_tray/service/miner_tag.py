"""--fleet-key-file: a metric label that shows one miner id beating from two machines, without the id.

The tag is the history's keyed BLAKE2b (core/storage/history_schema.miner_tag), keyed with a secret the
operator shares across the fleet instead of the history's per-file salt: equal ids give equal tags on
every machine holding the key, and without the key nobody can test a guessed id against a tag.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from polaris_tray.core.config.secret_file import UnsafeSecretFile, read_secret_file
from polaris_tray.core.storage.history_schema import miner_tag

MIN_KEY_CHARS = 16


def fleet_tag(key_text: str, miner_id: str) -> str:
    """24 hex digits. The key file's text, hashed to BLAKE2b's 32-byte key, keys the history's tag."""
    key = hashlib.blake2b(key_text.strip().encode(), digest_size=32, person=b"polaris-fleetkey").digest()
    return miner_tag(key, miner_id)


def read_fleet_key(path: str) -> str:
    """The key's text, checked like the miner id file; ValueError with the fix when unusable."""
    try:
        text = read_secret_file(Path(path)).strip()
    except UnsafeSecretFile as exc:
        raise ValueError(f"--fleet-key-file: {exc}") from None
    if len(text) < MIN_KEY_CHARS:
        raise ValueError(
            f"--fleet-key-file: {path} holds fewer than {MIN_KEY_CHARS} characters; make one shared key "
            "for the fleet, e.g. head -c 32 /dev/urandom | base64"
        )
    return text


def publish_miner_tag(registry, tag: str) -> None:
    from prometheus_client import Info

    Info(
        "polaris_agent_miner",
        "The miner id's fleet tag (keyed BLAKE2b; the id itself is never exported).",
        registry=registry,
    ).info({"miner_tag": tag})
