"""Run as root inside a private /tmp (users.in_private_tmp): history on a 1 MB tmpfs that fills up, then
gets its space back. Prints one JSON line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

sys.path.insert(0, sys.argv[1])

from polaris_tray.core.status.outcome import Outcome, OutcomeKind
from polaris_tray.core.storage.history import HistoryStore

OK = Outcome(OutcomeKind.ACCEPTED, 200, 5.0, None)
small = "/tmp/small"
os.makedirs(small)
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small], check=True)
clock = [0.0]
store = HistoryStore(f"{small}/state/history.sqlite3", now=lambda: clock[0])
store.record(OK)
result = {"first": store.count()}
with open(f"{small}/filler", "wb") as filler:  # fill the disk
    try:
        while True:
            filler.write(b"\0" * 65536)
            filler.flush()
    except OSError:
        pass
for _ in range(3000):  # the pages the file had free are used up, then writes fail
    store.record(Outcome(OutcomeKind.SERVER_ERROR, 500, 5.0, "x" * 300))
store.count()
result["dropped_while_full"] = store.dropped
result["problem"] = store.problem
os.unlink(f"{small}/filler")
clock[0] += 61  # the once-a-minute check is due
store.record(OK)
result["after"] = store.count()
result["problem_after"] = store.problem
store.close()
print(json.dumps(result))
