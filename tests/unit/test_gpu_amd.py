"""GPU readings without NVIDIA: amdgpu's sysfs files under a fake root, and the sampler's error rules."""

from __future__ import annotations

import logging

from polaris_tray.core.heartbeat.gpu import GpuSampler, hottest, mean_utilisation
from polaris_tray.core.heartbeat.gpu_amd import open_amd
from polaris_tray.core.heartbeat.gpu_common import GpuReadError, OnceLogger
from polaris_tray.core.values.payload import GpuReading, to_json


def _card(root, n, busy="42", *, total=8 * 2**30, used=2**30, temps=None, power="95000000", name=None):
    device = root / f"card{n}" / "device"
    hwmon = device / "hwmon" / "hwmon3"
    hwmon.mkdir(parents=True)
    if busy is not None:
        (device / "gpu_busy_percent").write_text(f"{busy}\n")
    (device / "mem_info_vram_total").write_text(str(total))
    (device / "mem_info_vram_used").write_text(str(used))
    if name:
        (device / "product_name").write_text(name + "\n")
    for i, (label, milli) in enumerate(temps or [("edge", 61000), ("junction", 70000)], start=1):
        (hwmon / f"temp{i}_label").write_text(label + "\n")
        (hwmon / f"temp{i}_input").write_text(str(milli))
    if power is not None:
        (hwmon / "power1_average").write_text(power)
    return device


def test_amd_cards_read_from_sysfs(tmp_path):
    _card(tmp_path, 0, name="Radeon RX 7900 XTX")
    _card(tmp_path, 1, busy="80", temps=[("junction", 90000), ("edge", 75500)], power=None)
    (tmp_path / "card0-DP-1").mkdir()  # a connector, not a card
    _card(tmp_path, 2, busy=None)  # an Intel iGPU: no gpu_busy_percent
    reader = open_amd(OnceLogger(), root=tmp_path)
    gpus = [to_json(gpu) for gpu in reader.sample()]
    assert gpus == [
        {
            "index": 0,
            "name": "Radeon RX 7900 XTX",
            "memory_total_mib": 8192,
            "memory_used_mib": 1024,
            "utilization_percent": 42.0,
            "temperature_c": 61.0,
            "power_w": 95.0,
        },
        {
            "index": 1,
            "name": "AMD GPU",
            "memory_total_mib": 8192,
            "memory_used_mib": 1024,
            "utilization_percent": 80.0,
            "temperature_c": 75.5,
        },
    ]


def test_no_drm_root_or_no_amd_card(tmp_path):
    assert open_amd(OnceLogger(), root=tmp_path / "absent") is None
    _card(tmp_path, 0, busy=None)
    assert open_amd(OnceLogger(), root=tmp_path) is None


def test_a_card_that_goes_away_is_left_out(tmp_path):
    device = _card(tmp_path, 0)
    reader = open_amd(OnceLogger(), root=tmp_path)
    (device / "gpu_busy_percent").unlink()
    assert reader.sample() == ()


def _gpu(index, utilization, temperature=None):
    return GpuReading(index=index, name="GPU", utilization_percent=utilization, temperature_c=temperature)


def test_gpu_figures_mean_and_hottest():
    gpus = (_gpu(0, 20.0, 65.0), _gpu(1, 50.0))
    assert mean_utilisation(gpus) == 35.0
    assert hottest(70.0, gpus) == 70.0
    assert hottest(None, (_gpu(0, 1.0, 81.0),)) == 81.0
    assert hottest(60.0, (_gpu(0, 1.0, 81.0),)) == 81.0
    assert mean_utilisation(()) is None and hottest(None, ()) is None and hottest(55.5, ()) == 55.5


class _Flaky:
    def __init__(self, errors):
        self.errors = list(errors)

    def sample(self):
        if self.errors:
            raise self.errors.pop(0)
        return (GpuReading(index=0, name="GPU", utilization_percent=5.0),)


def test_sampler_opens_once_and_logs_each_error_once(caplog):
    opened = []
    flaky = _Flaky([GpuReadError("lost"), GpuReadError("lost"), RuntimeError("odd")])

    def opener(_once):
        opened.append(1)
        return flaky

    def broken(_once):
        raise OSError("driver exploded")

    sampler = GpuSampler(openers=(broken, opener))
    with caplog.at_level(logging.WARNING):
        results = [sampler.sample() for _ in range(5)]
    assert opened == [1]
    assert results[:3] == [(), (), ()] and results[3] == (
        GpuReading(index=0, name="GPU", utilization_percent=5.0),
    )
    messages = [r.getMessage() for r in caplog.records]
    assert sum("lost" in m for m in messages) == 1
    assert sum("odd" in m for m in messages) == 1
    assert sum("driver exploded" in m for m in messages) == 1


def test_rebuilt_senders_share_one_sampler_so_an_error_is_logged_once(caplog, monkeypatch):
    """A Stop that cuts a beat sends its goodbye on a fresh BeatSender: the GPU error must not come back."""
    from polaris_tray.core.heartbeat import gpu
    from polaris_tray.core.heartbeat.metrics import SystemSampler

    opened = []

    def opener(_once):
        opened.append(1)
        return _Flaky([GpuReadError("lost")] * 4)

    monkeypatch.setattr(gpu, "_shared", [GpuSampler(openers=(opener,))])
    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            assert SystemSampler("127.0.0.1").gpus.sample() == ()
    assert opened == [1]
    assert sum("lost" in r.getMessage() for r in caplog.records) == 1
