"""Opens the status window on the display it is given with N attempts in a fresh history, at each window
height asked for, in its own process (a real X display, not the in-process offscreen one). Prints one JSON
object: height -> [rows the user sees whole, whether the table's vertical scroll bar shows], measured by
the widgets' geometry.

    python -m tests.support.status_table_on_screen HISTORY_FILE N HEIGHT [HEIGHT ...]
"""

import json
import sys
from pathlib import Path

from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QTableWidget

from polaris_tray.core.status.snapshot import Snapshot
from polaris_tray.core.storage.history import HistoryStore
from polaris_tray.core.values.link_state import LinkState
from tests.support.history import MINER, OK

T0 = 1_700_000_000.0


def rows_in_view(table: QTableWidget) -> int:
    """The rows the user sees whole: each row's rectangle inside the table's viewport."""
    view = table.viewport().rect()
    return sum(
        view.contains(table.visualRect(table.model().index(row, 0))) for row in range(table.rowCount())
    )


def main(path: Path, count: int, heights: list[int]) -> None:
    app = QApplication([])
    from polaris_tray.gui.status.window import StatusWindow

    writer = HistoryStore(path, clock=lambda: T0)
    for i in range(count):
        writer.record(OK, at=T0 + 5 * i, miner_id=MINER)
    writer.count()  # a read waits for the writer thread: every row is stored
    reader = HistoryStore(path, readonly=True)
    now = T0 + 5 * count
    window = StatusWindow(reader, clock=lambda: now)
    tag = reader.tag(MINER)
    window.show_snapshot(
        Snapshot(LinkState.ONLINE, "https://o/api/v1", "mine…", last_outcome=OK, miner_tag=tag)
    )
    window.show()
    assert QTest.qWaitForWindowExposed(window, 5000)
    table = window.table
    assert table.rowCount() == count, table.rowCount()
    seen = {}
    for height in heights:
        window.resize(640, height)
        for _ in range(100):  # the X server answers the resize: a configure event, then the layout
            if window.height() == height:
                break
            QTest.qWait(50)
        assert window.height() == height, window.height()
        app.processEvents()  # the layout settles
        seen[height] = [rows_in_view(table), table.verticalScrollBar().isVisible()]
    print(json.dumps(seen))
    window.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), [int(h) for h in sys.argv[3:]])
