"""The shipped icon files read back: every size Windows and macOS ask for is there, at its stated size."""

from __future__ import annotations

import struct

from tests.support.app import ROOT

ICONS = ROOT / "resources" / "icons"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_ico_has_every_windows_size_each_a_png_of_that_size():
    data = (ICONS / "polaris-tray.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    sizes = []
    for i in range(count):
        width, height, _colours, _, _planes, bits, length, offset = struct.unpack(
            "<BBBBHHII", data[6 + 16 * i : 22 + 16 * i]
        )
        width, height = width or 256, height or 256  # 0 means 256 in the directory
        assert png_size(data[offset : offset + length]) == (width, height) and bits == 32
        sizes.append(width)
    assert {16, 20, 24, 32, 40, 48, 64, 256} <= set(sizes)
    assert len(sizes) == len(set(sizes))


def test_icns_has_1x_and_2x_of_every_size_each_a_png_of_its_pixels():
    data = (ICONS / "polaris-tray.icns").read_bytes()
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)
    found, at = {}, 8
    while at < len(data):
        kind, length = data[at : at + 4], struct.unpack(">I", data[at + 4 : at + 8])[0]
        found[kind.decode()] = png_size(data[at + 8 : at + length])[0]
        at += length
    assert at == len(data)
    # 1x: 16, 32, 128, 256, 512; 2x (Retina): 16@2x ic11, 32@2x ic12, 128@2x ic13, 256@2x ic14, 512@2x ic10
    expected = {"icp4": 16, "icp5": 32, "ic07": 128, "ic08": 256, "ic09": 512}
    expected |= {"ic11": 32, "ic12": 64, "ic13": 256, "ic14": 512, "ic10": 1024}
    assert {k: found.get(k) for k in expected} == expected
