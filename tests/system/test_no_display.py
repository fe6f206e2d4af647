"""The tray started where there is no display (over SSH, on a server): a sentence and exit 2, not Qt's abort
(a core dump and "xcb-cursor0 is needed", seen by walk)."""

from tests.support.app import app_env, run_app


def test_the_tray_without_a_display_says_what_to_run_instead(home, orchestrator):
    env = app_env(home)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(name, None)
    result = run_app(["--server-url", orchestrator.url], env)
    assert result.returncode == 2, result.stderr
    assert "no graphical display here" in result.stderr and "--headless" in result.stderr
    assert "xcb" not in result.stderr and orchestrator.arrivals == []
