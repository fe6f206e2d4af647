"""What ships beside the code: desktop entry, AppStream metainfo, icons."""

import struct
import subprocess

from polaris_tray import __version__
from tests.support.app import ROOT

RES = ROOT / "resources"


def test_desktop_entry_is_valid():
    result = subprocess.run(
        ["desktop-file-validate", str(RES / "io.polaris.tray.desktop")], capture_output=True, text=True
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout


def test_metainfo_is_valid_and_carries_the_version():
    result = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(RES / "io.polaris.tray.metainfo.xml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f'version="{__version__}"' in (RES / "io.polaris.tray.metainfo.xml").read_text()


def test_icons_exist_in_every_format():
    icons = RES / "icons"
    assert (icons / "polaris-tray.svg").read_text().startswith("<?xml")
    for size in (16, 22, 32, 48, 64, 128, 256, 512):
        png = (icons / f"polaris-tray-{size}.png").read_bytes()
        width, height = struct.unpack(">II", png[16:24])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and (width, height) == (size, size)
    ico = (icons / "polaris-tray.ico").read_bytes()
    assert ico[:4] == b"\x00\x00\x01\x00" and struct.unpack("<H", ico[4:6])[0] >= 6
    icns = (icons / "polaris-tray.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)


# The CI workflow is checked by tests/unit/test_workflow_lint.py (actionlint, shellcheck, the jobs' order).
