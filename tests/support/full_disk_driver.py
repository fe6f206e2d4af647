"""Run as root inside a private /tmp (users.in_private_tmp): history on a 1 MB tmpfs that fills up, then
gets its space back. Prints one JSON line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

sys.path.insert(0, sys.argv[1])

from polaris_tray.core.storage.history import HistoryStore
from polaris_tray.core.values.outcome import Outcome, OutcomeKind

OK = Outcome(OutcomeKind.ACCEPTED, 200, 5.0, None)
small = "/tmp/small"
os.makedirs(small)
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small], check=True)
clock = [0.0]
import logging  # noqa: E402

from polaris_tray.core.storage.logs import PrivateRotatingFileHandler  # noqa: E402

log_path = f"{small}/state/log/polaris-tray.log"
handler = PrivateRotatingFileHandler(log_path, maxBytes=10**7, backupCount=1, now=lambda: clock[0])
logger = logging.getLogger("full-disk")
logger.propagate = False
logger.addHandler(handler)
logger.warning("before")
store = HistoryStore(f"{small}/state/history.sqlite3", now=lambda: clock[0])
store.record(OK)
result = {"first": store.count()}
filler = os.open(f"{small}/filler", os.O_WRONLY | os.O_CREAT, 0o600)  # fill the disk
try:
    while True:
        os.write(filler, b"\0" * 65536)
except OSError:
    os.close(filler)
for _ in range(3000):  # the pages the file had free are used up, then writes fail
    store.record(Outcome(OutcomeKind.SERVER_ERROR, 500, 5.0, "x" * 300))
store.count()
for _ in range(200):
    logger.warning("y" * 1000)  # the log hits the full disk too
result["log_problem"] = handler.problem
result["dropped_while_full"] = store.dropped
result["problem"] = store.problem
os.unlink(f"{small}/filler")
clock[0] += 61  # the once-a-minute check is due
store.record(OK)
logger.warning("after the space came back")
with open(log_path) as written:
    result["log_after"] = written.read().strip().endswith("after the space came back")
result["after"] = store.count()
result["problem_after"] = store.problem
store.close()
print(json.dumps(result))
