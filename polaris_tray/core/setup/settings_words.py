"""What the settings form says: its notes and reasons in one place, so the rules file stays rules."""

from __future__ import annotations

from polaris_tray.core.config.miner_id import ENV_VAR

FLAGS = {"server_url": "--server-url", "interval_s": "--interval"}
LABELS = {"server_url": "Server", "interval_s": "Heartbeat interval"}
PLACEHOLDER_NEW = "paste the id that polaris register gave you"
PLACEHOLDER_KEEP = "leave empty to keep the stored id"
NOTE_KEYRING_ONLY = "Kept only in the OS keyring, never in a file."
NOTE_NEW_ID = "a new id typed here is kept only in the OS keyring, never in a file."
WELCOME = (
    "<b>Welcome to Polaris Tray.</b> Paste your miner id and press Enter: the icon turns green once "
    "Polaris counts this computer online."
)
WHERE_IS_MY_ID = (
    "Where do I get my miner id? Run <code>polaris register</code> with the Polaris CLI, or see "
    "<code>~/.polaris/user_info.json</code> (Import reads only its miner_id)."
)
ADVANCED = "A&dvanced: server, interval, log level"
SAVE_SERVER = "Save this server for ne&xt time"
SAVE_SERVER_NOTE = (
    'Server set by --server-url. Keep "Save this server for next time" ticked to use it at the next '
    "start too; untick it to use it for this run only."
)
NEED_MINER_ID = "Enter your miner id: none is stored yet, so the heartbeat cannot start without it."
NOTHING_SAVED = "Fix the values marked in red first: nothing was saved."
DEMO_NOTE = (
    "<b>Demo mode:</b> these are the values of the built-in demo orchestrator and nothing here is "
    "saved. Quit and start Polaris Tray without --demo to change the settings."
)


WELCOME_NO_KEYRING = (
    "<b>Welcome to Polaris Tray.</b> It needs your miner id (from <code>polaris register</code>); "
    "this computer has no keyring to keep it in, so see below for what works here."
)


def no_keyring_help() -> str:
    """What works without a keyring: the id cannot be kept, so the dialog offers the ways that can."""
    return (
        "No usable OS keyring, so a miner id typed here could not be kept. Start Polaris Tray with "
        f"{ENV_VAR} set (this session only) or with --miner-id-file PATH (a file only you can read), "
        "or start and unlock a keyring (GNOME Keyring, KWallet) and reopen Settings."
    )
