"""The modules PyInstaller cannot find by reading the code, per OS (the spec's hiddenimports).

keyring finds its backends through entry points and imports them by name, so the backend of each OS is
listed with what it imports dynamically: on Linux the Secret Service (secretstorage over jeepney, with
cryptography's ciphers), on Windows the Credential Manager through pywin32-ctypes (whose ctypes backend
is chosen at run time), on macOS the keychain. Each OS lists only what it installs: a name listed but not
installed prints "Hidden import not found" in the build.
"""

from __future__ import annotations

import importlib.util

KEYRING_COMMON = ["keyring.backends.chainer", "keyring.backends.fail", "keyring.backends.null"]
LINUX = ["secretstorage", "jeepney", "jeepney.io.blocking", "cryptography.hazmat.primitives.ciphers"]
WINDOWS = [
    "keyring.backends.Windows",
    "win32ctypes.pywin32.win32cred",
    "win32ctypes.pywin32.pywintypes",
    "win32ctypes.core",
    "win32ctypes.core.ctypes._authentication",
    "win32ctypes.core.ctypes._common",
    "win32ctypes.core.ctypes._dll",
    "win32ctypes.core.ctypes._nl_support",
    "win32ctypes.core.ctypes._resource",
    "win32ctypes.core.ctypes._system_information",
    "win32ctypes.core.ctypes._time",
    "win32ctypes.core.ctypes._util",
]
MACOS = ["keyring.backends.macOS", "keyring.backends.macOS.api"]
# truststore (the OS's trust store for TLS) picks its implementation by OS at import time.
TRUSTSTORE = {"linux": "truststore._openssl", "win32": "truststore._windows", "darwin": "truststore._macos"}


def installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def hidden_imports(platform: str, collect_submodules=None) -> list[str]:
    """What this OS's build lists. On Linux every keyring backend module, as the build always had."""
    if platform.startswith("linux"):
        names = [*(collect_submodules("keyring.backends") if collect_submodules else KEYRING_COMMON), *LINUX]
    elif platform == "win32":
        names = [*KEYRING_COMMON, *WINDOWS]
    elif platform == "darwin":
        names = [*KEYRING_COMMON, *MACOS]
    else:
        names = list(KEYRING_COMMON)
    if installed("truststore"):  # the OS trust store's bridge; an older environment may lack it
        names += ["truststore", TRUSTSTORE.get(platform if platform in TRUSTSTORE else "linux", "")]
    return [n for n in names if n]
