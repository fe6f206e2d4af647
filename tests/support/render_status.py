"""Renders the status window in every state to PNGs, in its own process so a scale factor can be set first.

    python -m tests.support.render_status OUT_DIR SUFFIX     (e.g. QT_SCALE_FACTOR=2 ... test-artifacts 200)

Prints one line per state: name, window size (logical), minimum size, screen size (logical), the scroll
areas showing a scroll bar and the labels cut off (comma-separated, "-" for none), then the title.
"""

import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

from polaris_tray.core.status.snapshot import Snapshot
from polaris_tray.core.storage.history import HistoryStore
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.core.values.outcome import Outcome
from polaris_tray.core.values.redact import mask_secret
from tests.support.clipping import clipped_labels, visible_scrollbars
from tests.support.history import MINER, OK, REFUSED, TLS, scripted_session

URL = "https://orchestrator.example/api/v1"
LONG_ERROR = (
    "The server's certificate could not be verified (self-signed certificate in certificate chain): "
    "the system's trust store does not include the authority that signed it. If this orchestrator uses "
    "a private authority, add its certificate to the trust store, or check that no proxy intercepts it."
)[:300]


def states(now: float, tag: str | None) -> dict[str, Snapshot]:
    masked = mask_secret(MINER)
    common = {"miner_id_masked": masked, "miner_tag": tag, "miner_origin": "keyring"}
    tls = Outcome(
        TLS.kind, error=TLS.error + " (self-signed certificate in certificate chain)", reason=TLS.reason
    )
    return {
        "online": Snapshot(
            LinkState.ONLINE,
            URL,
            last_success_wall=now - 3,
            next_attempt_wall=now + 2,
            last_outcome=OK,
            **common,
        ),
        "amber": Snapshot(
            LinkState.RETRYING,
            URL,
            last_success_wall=now - 20,
            next_attempt_wall=now + 4,
            last_outcome=REFUSED,
            **common,
        ),
        "red": Snapshot(
            LinkState.ATTENTION,
            URL,
            last_success_wall=now - 400,
            next_attempt_wall=now + 30,
            last_outcome=tls,
            **common,
        ),
        "red-long": Snapshot(  # the longest error an outcome carries (300 characters), wrapped whole
            LinkState.ATTENTION,
            URL,
            last_success_wall=now - 400,
            next_attempt_wall=now + 30,
            last_outcome=Outcome(TLS.kind, error=LONG_ERROR, reason=TLS.reason),
            **common,
        ),
        "unconfigured": Snapshot(LinkState.UNCONFIGURED, URL),
        "stopped": Snapshot(LinkState.STOPPED, URL, last_success_wall=now - 90, **common),
        "demo": Snapshot(
            LinkState.ONLINE,
            "http://127.0.0.1:8765/api/v1",
            "demo…",
            last_success_wall=now - 1,
            next_attempt_wall=now + 4,
            last_outcome=OK,
            miner_origin="demo",
            miner_tag=tag,
        ),
    }


def main(out: str, suffix: str) -> None:
    app = QApplication([])
    from polaris_tray.gui.status.window import StatusWindow

    path = Path(tempfile.mkdtemp()) / "h.sqlite3"
    now = time.time()
    writer = HistoryStore(path, clock=lambda: now)
    scripted_session(writer, now - 1080 - 600)  # ends 10 min ago, then 10 min more online
    at = now - 600
    while at <= now:
        writer.record(OK, at=at, miner_id=MINER)
        at += 5
    writer.close()  # waits for the writer thread: every row is in the file before the reader opens it
    reader = HistoryStore(path, readonly=True)
    screen = app.primaryScreen().availableGeometry()
    for name, snap in states(now, reader.tag(MINER)).items():
        window = StatusWindow(reader, diagnostics=lambda: "", demo=name == "demo")
        window.show_snapshot(snap)
        window.show()
        app.processEvents()
        image = window.grab()
        image.save(str(Path(out) / f"status-{name}-{suffix}.png"))
        bars, cut = set(), set()
        tabs = getattr(window, "tabs", None)
        for page in range(tabs.count()) if tabs is not None else [None]:
            if page is not None:  # a short screen: every tab is looked at, and saved
                tabs.setCurrentIndex(page)
                app.processEvents()
                window.grab().save(str(Path(out) / f"status-{name}-tab{page}-{suffix}.png"))
            bars.update(visible_scrollbars(window, allowed=(window.table,)))  # 50 rows scroll inside it
            cut.update(clipped_labels(window))
        minimum = window.minimumSizeHint().expandedTo(window.minimumSize())
        print(
            name,
            window.width(),
            window.height(),
            minimum.width(),
            minimum.height(),
            screen.width(),
            screen.height(),
            ",".join(sorted(bars)) or "-",
            ",".join(sorted(cut)).replace(" ", "_") or "-",
            window.windowTitle(),
            flush=True,
        )
        window.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
