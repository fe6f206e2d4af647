"""The chart draws what happened: a lone success shows, stops are gaps, failures sit where they happened,
and the axis ticks are round numbers. Read off the rendered pixels."""

import itertools

from polaris_tray.core.storage.history_schema import Attempt
from polaris_tray.core.values.link_state import Colour
from polaris_tray.gui.status.latency_chart import WINDOW_S, LatencyChart, nice_ticks, time_ticks, window_end
from polaris_tray.gui.tray.icons import FILL

NOW = 1_700_000_010.0  # 10 s into a minute
END = window_end(NOW)


def ok(at, latency=80.0, goodbye=False):
    return Attempt(at, "accepted", 200, latency, None, goodbye=goodbye)


def failed(at, reason="refused"):
    kind = "network_error"
    return Attempt(at, kind, None, 1.0, "boom", reason=reason)


def columns_with(chart, colour, tolerance=40):
    image = chart.grab().toImage()
    target = FILL[colour]
    found = set()
    plot_bottom = chart._plot().bottom() - 1
    for x in range(image.width()):
        for y in range(int(chart._plot().top()), int(plot_bottom)):
            c = image.pixelColor(x, y)
            if all(abs(a - b) <= tolerance for a, b in zip(c.getRgb()[:3], target.getRgb()[:3], strict=True)):
                found.add(x)
                break
    return found


def render(qtbot, attempts):
    chart = LatencyChart()
    qtbot.addWidget(chart)
    chart.resize(600, 160)
    chart.set_attempts(attempts, NOW)
    return chart


def x_of(chart, at):
    return round(chart._x(chart._plot(), END, at))


def test_a_single_success_draws_something(qtbot):
    chart = render(qtbot, [ok(NOW - 600)])
    green = columns_with(chart, Colour.GREEN)
    assert green and all(abs(x - x_of(chart, NOW - 600)) <= 4 for x in green)


def test_a_stop_is_a_gap_not_a_line(qtbot):
    before = [ok(NOW - 1500 + i * 10) for i in range(30)]  # until NOW - 1210
    goodbye = [ok(NOW - 1205, goodbye=True)]
    after = [ok(NOW - 600 + i * 10) for i in range(30)]
    chart = render(qtbot, before + goodbye + after)
    green = columns_with(chart, Colour.GREEN)
    middle = (x_of(chart, NOW - 1200) + x_of(chart, NOW - 610)) // 2
    assert x_of(chart, NOW - 1300) in green and x_of(chart, NOW - 400) in green
    assert not any(abs(x - middle) < 20 for x in green)  # nothing drawn across the stop


def test_failures_are_marked_where_they_happened(qtbot):
    chart = render(qtbot, [ok(NOW - 2000), failed(NOW - 1800), failed(NOW - 900, reason="tls")])
    amber, red = columns_with(chart, Colour.AMBER), columns_with(chart, Colour.RED)
    assert any(abs(x - x_of(chart, NOW - 1800)) <= 2 for x in amber)
    assert any(abs(x - x_of(chart, NOW - 900)) <= 2 for x in red)  # TLS: red, as in the tray
    right = chart._plot().right()
    assert all(x < right - 100 for x in amber | red)  # not piled on the right border


def test_axis_ticks_are_round():
    assert nice_ticks(57) == [0, 20, 40, 60, 80]
    assert nice_ticks(84) == [0, 50, 100]
    assert nice_ticks(1200) == [0, 500, 1000, 1500]
    ticks = time_ticks(END - WINDOW_S, END)
    assert len(ticks) == 4 and all(b - a == 900 for a, b in itertools.pairwise(ticks))
