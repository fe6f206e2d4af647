"""Which certificate authorities the heartbeat trusts: the operating system's, as curl and browsers do.

certifi's bundle (requests' default) knows nothing of a company CA installed for TLS inspection, nor of
Windows' or macOS' own stores. The order, first match wins (docs/networks.md says the same):

1. REQUESTS_CA_BUNDLE, then CURL_CA_BUNDLE: a PEM file (or a hashed directory); only it is trusted, as
   requests and curl do.
2. SSL_CERT_FILE and/or SSL_CERT_DIR: only those, as OpenSSL does.
3. Otherwise the platform's store through `truststore` (pip uses it for this): Windows' and macOS'
   system stores; on Linux OpenSSL's default file and directory (Debian: /etc/ssl/certs, which
   `update-ca-certificates` fills), else the first well-known bundle file that exists.

Verification is always on: there is no setting that turns it off. A variable naming a missing file is
a configuration error with that sentence, not a silent fallback.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass

BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
OPENSSL_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR")
_ALL_VARIABLES = BUNDLE_VARIABLES + OPENSSL_VARIABLES


class TrustConfigError(ValueError):
    """A CA variable names something that cannot be used; the message says which and what to do."""


@dataclass(frozen=True)
class Trust:
    context: ssl.SSLContext
    source: str  # for the doctor and the docs: "the system trust store", "REQUESTS_CA_BUNDLE=/x.pem"


_CACHE: dict[tuple[tuple[str, str, float | None], ...], Trust] = {}


def trust(environ: Mapping[str, str] | None = None) -> Trust:
    """The TLS context every heartbeat connection verifies with (raises TrustConfigError).

    Built once per set of variables and files (loading a bundle costs ~20 ms; every BeatPoster, the goodbye's
    included, would pay it): a changed variable or a file changed on disk builds a new one.
    """
    env = os.environ if environ is None else environ
    key = tuple((name, env.get(name, ""), _mtime(env.get(name, ""))) for name in _ALL_VARIABLES)
    found = _CACHE.get(key)
    if found is None:
        found = _build(env)
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[key] = found
    return found


def _mtime(path: str) -> float | None:
    try:
        return os.stat(path).st_mtime if path else None
    except OSError:
        return None


def _build(env: Mapping[str, str]) -> Trust:
    for name in BUNDLE_VARIABLES:
        path = env.get(name, "")
        if path:
            context = _verifying_context()
            _load(context, name, path)
            return Trust(context, f"{name}={path}")
    chosen = [(name, env.get(name, "")) for name in OPENSSL_VARIABLES if env.get(name, "")]
    if chosen:
        context = _verifying_context()
        for name, path in chosen:
            _load(context, name, path)
        return Trust(context, ", ".join(f"{name}={path}" for name, path in chosen))
    return Trust(_platform_context(), "the system trust store")


def _verifying_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname by default
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _platform_context() -> ssl.SSLContext:
    try:
        import truststore
    except ImportError:  # pragma: no cover - a dependency; OpenSSL's default paths are the next best
        context = _verifying_context()
        context.load_default_certs()
        return context
    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _load(context: ssl.SSLContext, name: str, path: str) -> None:
    if not os.path.exists(path):
        raise TrustConfigError(
            f"{name} names {path}, which does not exist: fix it or unset it to use the system trust store."
        )
    try:
        if os.path.isdir(path):
            context.load_verify_locations(capath=path)
        else:
            context.load_verify_locations(cafile=path)
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise TrustConfigError(
            f"{name} names {path}, which holds no usable certificate ({exc.__class__.__name__}): "
            "fix it or unset it to use the system trust store."
        ) from None
