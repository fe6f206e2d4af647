"""Attacks on "start at login follows the app": the refresh at start must rewrite only an
entry that starts another copy of this app, never one a user (or another program) wrote to start
something else under our desktop id, such as a wrapper that sets the environment."""

from __future__ import annotations

from polaris_tray.core.platform.autostart.xdg import XdgAutostart, exec_program, render_entry


def _program(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return str(path)


def test_a_wrapper_the_user_put_in_front_is_not_overwritten_at_start(tmp_path):
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    wrapper = _program(tmp_path / "bin" / "env")  # as /usr/bin/env QT_SCALE_FACTOR=2 polaris-tray
    other = _program(tmp_path / "old" / "polaris-tray")
    here = XdgAutostart(environ=env, command=[_program(tmp_path / "new" / "polaris-tray")])
    here.path.parent.mkdir(parents=True)
    written = render_entry([wrapper, "QT_SCALE_FACTOR=2", other])
    here.path.write_text(written)
    assert exec_program(written) == wrapper
    assert here.repair_if_stale() is False
    assert here.path.read_text() == written  # the user's entry, as they wrote it


def test_an_entry_of_another_copy_is_still_pointed_here(tmp_path):
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    new = _program(tmp_path / "new" / "polaris-tray")
    for other in ("Polaris_Tray-x86_64.AppImage", "python3.11"):
        XdgAutostart(environ=env, command=[_program(tmp_path / "old" / other), "-m", "polaris_tray"]).enable()
        here = XdgAutostart(environ=env, command=[new])
        assert here.repair_if_stale() is True, other
        assert exec_program(here.path.read_text()) == new
