"""The orchestrator's verdict (is this miner registered?) and the clock's skew against the server.

The verdict takes a real heartbeat, so it must tell the truth: "online" only while this user's agent runs
(the one-agent lock is held by a tray or headless process), "offline" otherwise; the line says which was
sent. With --no-send nothing is sent and the verdict is not checked.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from polaris_tray.core.doctor.network import plain_words, skew_seconds
from polaris_tray.core.doctor.probes import Deadline
from polaris_tray.core.doctor.report import Check, fail, ok, skipped, warn
from polaris_tray.core.values.outcome import OutcomeKind
from polaris_tray.core.values.redact import mask_secret

VERDICT, CLOCK = "Orchestrator", "Clock"
VERDICT_S = 5.0
SKEW_WARN_S = 60.0
SKEW_FAIL_S = 300.0
_SAID = re.compile(r"HTTP (\d+: [^()]*)\)")  # the server's words inside the outcome's sentence


@dataclass(frozen=True)
class AgentState:
    running: bool
    holder: str = ""  # "tray 1234", "headless 99": who holds the lock (an idle tray: running False)
    known: bool = True  # False: no way to read the lock here (Windows), so no heartbeat may be sent


def _flock_held(path: Path) -> bool | None:
    """Whether any process holds a flock on `path`, read from /proc/locks without taking the lock (taking
    it, even for a moment, could make an agent starting at that instant refuse to run). None: unknown."""
    if sys.platform != "linux":
        return None
    try:
        st = os.stat(path)
        with open("/proc/locks", encoding="ascii", errors="replace") as locks:
            table = locks.read()
    except OSError:
        return None
    wanted = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in table.splitlines():
        fields = line.split()
        if len(fields) > 5 and fields[1] == "FLOCK" and fields[5] == wanted:
            return True
    return False


SYSTEM_SERVICE_DIR = Path("/run/polaris-tray")  # the system unit's RuntimeDirectory=polaris-tray


def agent_state(
    miner_id: str | None = None,
    service_dirs: tuple[Path, ...] = (SYSTEM_SERVICE_DIR,),
    server_url: str | None = None,
) -> AgentState:
    """Is an agent beating for this user or this miner? Its one-agent lock tells, read only: this user's
    (tray, headless, the user service), else the system service's lock for this miner id. A lock whose
    note names another server (server_url given) is an agent that does not beat this one."""
    from polaris_tray.core.platform.instance_dir import BEATING_MARK, InstanceLock, server_tag

    locks = []
    try:
        locks.append(InstanceLock())
    except OSError:
        pass
    if miner_id:
        locks += [InstanceLock.for_miner(miner_id, directory) for directory in service_dirs]
    idle = ""
    known = True
    for lock in locks:
        held = _flock_held(lock.path)
        if held is None and os.path.exists(lock.path):
            held = _try_shared(lock.path)
        if held:
            words = lock.holder().split()
            who, note = " ".join(words[:2]), words[2:]
            if words[:1] == ["tray"] and note[:1] != [BEATING_MARK]:
                idle = who  # a tray holds the lock while Stopped or not set up: it does not beat
                continue
            if server_url and len(note) > 1 and note[1] != server_tag(server_url):
                idle = f"{who}, beating another server"
                continue
            return AgentState(True, who)
        if held is None and os.path.exists(lock.path):
            known = False  # a lock file whose holder cannot be read: maybe an agent, maybe not
    return AgentState(False, idle, known=known)


def _try_shared(path: Path) -> bool | None:
    """Fallback where /proc/locks is missing: a shared, non-blocking lock fails while an agent holds it.
    None where flock does not exist (Windows locks bytes with msvcrt): unknown."""
    if sys.platform == "win32":
        return None
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def check_verdict(server_url: str, miner_id: str, agent: AgentState, deadline: Deadline) -> Check:
    """One real heartbeat with the status that is true for this machine."""
    from polaris_tray.core.heartbeat.runner import ToldOffline
    from polaris_tray.core.heartbeat.sender import BeatSender

    if not agent.known:
        return skipped(
            VERDICT,
            "whether an agent runs here cannot be read on this system, so no heartbeat was sent "
            "(a wrong status would mislead the orchestrator); the agent's own state says if it is accepted",
        )
    status = "online" if agent.running else "offline"
    why = (
        (f"your agent runs ({agent.holder})" if agent.running and agent.holder else "your agent runs")
        if agent.running
        else f"{agent.holder} does not beat this server now, so it is not counted online"
        if agent.holder
        else "no agent runs for this user, so it is not counted online"
    )
    sent = f"sent one heartbeat with status '{status}' ({why})"
    bound = deadline.left(VERDICT_S)
    if bound < 0.5:
        return skipped(VERDICT, "the doctor's time was used up by the steps before")
    sender = BeatSender(server_url, miner_id, deadline_s=bound)
    try:
        outcome = sender.attempt(status)
    finally:
        sender.close()
    masked = mask_secret(miner_id)
    error = outcome.error or outcome.kind.value
    if outcome.kind is OutcomeKind.ACCEPTED:
        line = f"miner {masked} is registered: the orchestrator accepted it; {sent}"
        if not agent.running:
            told = ToldOffline(sender.server_url, miner_id, outcome)  # that server counts us offline now
            fix = "start Polaris Tray (or --headless) so this machine is counted online"
            return replace(warn(VERDICT, line, fix), told=told)
        return ok(VERDICT, line)
    if outcome.kind is OutcomeKind.NOT_REGISTERED:
        return fail(
            VERDICT,
            f"miner {masked} is not registered with this orchestrator ({_said(error)}); {sent}",
            "run `polaris register` to get an id, or check the id and that this is the server "
            "you registered with",
        )
    if outcome.status_code == 404:  # a bare Not Found: no such route, the URL is wrong
        return fail(
            VERDICT,
            f"the server has no heartbeat endpoint at this URL ({_said(error)}); {sent}",
            "check the server URL: it should end in /api/v1",
        )
    if outcome.kind is OutcomeKind.REJECTED:
        return fail(
            VERDICT,
            f"{error} {sent}",
            "update Polaris Tray: the orchestrator expects another heartbeat shape",
        )
    if outcome.kind is OutcomeKind.RATE_LIMITED:
        return warn(VERDICT, f"{error} {sent}", "nothing to do: the agent waits as asked")
    return fail(VERDICT, f"{error} {sent}", "see the lines above; retry in a minute")


def _said(error: str) -> str:
    """The server's own words from the outcome's sentence ("HTTP 404: Miner … not found"), else all of it."""
    found = _SAID.search(error)
    return f"HTTP {found.group(1)}" if found else error


def check_clock(date_header: str | None, now_wall: float) -> Check:
    if not date_header:
        return skipped(CLOCK, "the server sent no Date header to compare with")
    skew = skew_seconds(date_header, now_wall)
    if skew is None:
        return skipped(CLOCK, "the server's Date header could not be read")
    ahead = "behind" if skew > 0 else "ahead of"
    text = f"this computer's clock is {plain_words(skew)} {ahead} the server's"
    fix = "turn on automatic time (NTP): `timedatectl set-ntp true`, or the date settings of your system"
    if abs(skew) > SKEW_FAIL_S:
        return fail(CLOCK, text + ": heartbeats look stale or from the future to the orchestrator", fix)
    if abs(skew) > SKEW_WARN_S:
        return warn(CLOCK, text, fix)
    return ok(CLOCK, f"within {plain_words(skew)} of the server's (its Date header)")
