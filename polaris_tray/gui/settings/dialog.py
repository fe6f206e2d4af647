"""The settings dialog: a thin view of SettingsForm (core/setup/settings_form.py), which decides."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMoveEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QLabel, QLineEdit, QPushButton, QWidget

from polaris_tray.core.config.secret_store import SecretStore
from polaris_tray.core.config.settings import Settings, SettingsStore
from polaris_tray.core.platform.autostart.base import Autostart
from polaris_tray.core.setup.connection_test import TestResult
from polaris_tray.core.setup.settings_form import (
    PLACEHOLDER_KEEP,
    WELCOME_NO_KEYRING,
    FormValues,
    InEffect,
    Problems,
    SettingsForm,
)
from polaris_tray.core.values.redact import mask_secret
from polaris_tray.gui.beat.background_call import BackgroundCall
from polaris_tray.gui.settings import layout as settings_layout
from polaris_tray.gui.settings.layout import SettingsWidgets, set_tone


class SettingsDialog(SettingsWidgets):
    applied = Signal(object, object)  # Settings, the new miner id or None (unchanged)
    told_offline = Signal(object)  # a test's accepted "offline" (ToldOffline): the runner ends its count

    def __init__(
        self,
        store: SettingsStore,
        autostart: Autostart,
        secret_store: SecretStore | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._frame_fitted = QSize()  # the window manager's frame the last fit knew (none before a show)
        self.setWindowTitle("Settings")  # Qt appends " — Polaris Tray"
        self.setObjectName("settingsDialog")
        self.form = SettingsForm(store, autostart, secret_store)
        self._calls: set[BackgroundCall] = set()
        self._masked: str | None = None
        self._miner_problem_shown = False
        self._test_round = 0  # bumped when a field changes: a result for older values is not shown
        settings_layout.build(self)
        for widget in self.page.findChildren(QWidget):  # a mnemonic's jump too, not only Tab, scrolls to it
            if widget.focusPolicy() != Qt.FocusPolicy.NoFocus:
                widget.installEventFilter(self)
        self.url_edit.textChanged.connect(self._check)
        self.miner_edit.textChanged.connect(self._check)
        self.url_edit.textChanged.connect(self._forget_test_result)
        self.miner_edit.textChanged.connect(self._forget_test_result)
        self.advanced_toggle.toggled.connect(self._show_advanced)
        self.show_button.toggled.connect(self._toggle_miner_echo)
        self.import_button.clicked.connect(self._import_legacy)
        self.test_button.clicked.connect(self._test_connection)
        self.buttons.accepted.connect(self._ok)
        self.buttons.rejected.connect(self.reject)
        self.apply_button.clicked.connect(self._apply)
        self.ok_button.setDefault(True)  # Enter in any field saves, wherever the focus is

    @property
    def ok_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    @property
    def apply_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Apply)

    # --- opening
    def load(
        self,
        settings: Settings,
        overrides: MutableMapping[str, object] | None = None,
        *,
        first_run: bool = False,
        miner_masked: str | None = None,
        demo: bool = False,
        in_effect: InEffect | None = None,
    ) -> None:
        """Shows the values in effect (see SettingsForm.load); overrides is the caller's mapping."""
        state = self.form.load(
            settings,
            overrides,
            first_run=first_run,
            miner_masked=miner_masked,
            demo=demo,
            in_effect=in_effect,
        )
        self._masked = miner_masked
        values = state.values
        self.url_edit.setText(values.server_url)
        self.interval_spin.setRange(state.interval_min, state.interval_max)
        self.interval_spin.setDecimals(0 if values.interval_s.is_integer() else 1)
        self.interval_spin.setValue(values.interval_s)
        self.start_on_launch.setChecked(values.start_on_launch)
        self.start_at_login.setChecked(values.start_at_login)
        self.notify_box.setChecked(values.notifications)
        self.level_combo.setCurrentText(values.log_level)
        self.save_server.setVisible(state.offer_save_server)
        self.where_note.setVisible(not state.read_only and not self.form.miner_in_effect)
        self.save_server.setChecked(values.save_server)
        self.miner_edit.clear()
        self.miner_edit.setPlaceholderText(state.miner_placeholder)
        self.show_button.setChecked(False)  # the Show state never carries over to the next opening
        self._toggle_miner_echo(False)
        self._show_text(self.intro, state.intro)
        self._show_text(self.override_note, state.override_note)
        for label, text in ((self.test_result, ""), (self.status, ""), (self.miner_note, state.miner_note)):
            self._show_text(label, text)
        self._miner_problem_shown = False
        self.miner_note.setToolTip("")
        editable = (self.url_edit, self.interval_spin, self.start_on_launch, self.start_at_login)
        for widget in (*editable, self.notify_box, self.level_combo, self.test_button):
            widget.setEnabled(not state.read_only)
        for button in (QDialogButtonBox.StandardButton.Apply, QDialogButtonBox.StandardButton.Cancel):
            self.buttons.button(button).setVisible(not state.read_only)  # demo: look, then OK
        self._set_miner_editable(state.miner_editable)
        self._show_advanced(state.advanced_open)
        self._test_round += 1
        if state.miner_editable:
            self._run(self.form.probe_keyring, self._after_probe)
        self._check()
        self._focus_first()

    def _focus_first(self) -> None:
        """The id first: typing at once goes there, and Enter saves it (the URL is never typed into)."""
        (self.miner_edit if self.miner_edit.isEnabled() else self.ok_button).setFocus()

    def _show_advanced(self, shown: bool) -> None:
        settings_layout.show_advanced(self, shown)
        self._fit()

    def _after_probe(self, problem: str | None, error: Exception | None) -> None:
        if problem is None:  # a usable keyring (an unexpected error is no verdict: saving will say)
            return
        self._set_miner_editable(False)
        self._show_text(self.miner_note, self.form.miner_note(self._masked), "error")
        self.miner_note.setToolTip(problem)  # the keyring's own words, for whoever fixes it
        self.miner_edit.setPlaceholderText("no keyring to keep it in: see below")
        if self.intro.isVisible() and not self.form.demo:
            self._show_text(self.intro, WELCOME_NO_KEYRING)
        self._check()

    def _set_miner_editable(self, editable: bool) -> None:
        for widget in (self.miner_edit, self.show_button, self.import_button):
            widget.setEnabled(editable)
        if not editable:
            self.miner_edit.clear()

    def _show_text(self, label: QLabel, text: str, tone: str = "") -> None:
        label.setText(text)
        set_tone(label, tone)
        label.setVisible(bool(text))

    def _toggle_miner_echo(self, shown: bool) -> None:
        self.miner_edit.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        if self.show_button.isChecked() != shown:
            self.show_button.setChecked(shown)
        self.show_button.setText("Hid&e" if shown else "Sho&w")

    def _import_legacy(self) -> None:
        start = str(Path.home() / ".polaris")
        path, _ = QFileDialog.getOpenFileName(
            self, "Import the miner id", start, "Polaris CLI files (*.json)"
        )
        if path:
            self.import_from(Path(path))

    def import_from(self, path: Path) -> bool:
        value = self.form.import_legacy(path)
        if not value:
            self._show_text(self.miner_note, f"No valid miner_id in {path.name}.", "error")
            self._fit()
            return False
        self.miner_edit.setText(value)
        self._show_text(
            self.miner_note,
            f"Imported from {path.name} (only miner_id was read); OK stores it in the keyring.",
            "",
        )
        self._fit()
        return True

    # --- as the user types
    def values(self) -> FormValues:
        return FormValues(
            server_url=self.url_edit.text(),
            miner_id=self.miner_edit.text(),
            interval_s=float(self.interval_spin.value()),
            start_on_launch=self.start_on_launch.isChecked(),
            start_at_login=self.start_at_login.isChecked(),
            notifications=self.notify_box.isChecked(),
            log_level=self.level_combo.currentText(),
            save_server=not self.save_server.isHidden()
            and self.save_server.isChecked(),  # folded: still meant
        )

    def current_settings(self) -> Settings:
        return self.form.to_settings(self.values())

    def _check(self, *_args: object) -> bool:
        """The validation hook, as the user types: reasons beside their fields, OK only when valid.

        The rule that only bites on OK (an empty id when none is stored) is SettingsForm.save's.
        """
        problems = self.form.check(self.values())
        self._show_problems(problems)
        self.ok_button.setEnabled(problems.ok)
        self.apply_button.setEnabled(problems.ok)
        self.test_button.setEnabled(problems.url is None and not self.form.demo)
        self._fit()
        return problems.ok

    def _show_problems(self, problems: Problems) -> None:
        if problems.url and not self.advanced_toggle.isChecked():
            self._show_advanced(True)  # a problem is never hidden behind the disclosure
        self._show_text(self.url_reason, problems.url or "", "error")
        if problems.miner:
            self._show_text(self.miner_note, problems.miner, "error")
            self._miner_problem_shown = True
        elif self._miner_problem_shown:  # the problem went: back to what the form says about the id
            self._show_text(
                self.miner_note,
                self.form.miner_note(self._masked),
                "error" if self.form.keyring_problem else "",
            )
            self._miner_problem_shown = False

    def _fit(self) -> None:
        settings_layout.fit(
            self, (self.intro, self.override_note, self.url_reason, self.miner_note, self.status)
        )

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit()  # the notes have their real widths only now
        self._focus_first()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self._fit()  # notes wrap differently at another width

    def moveEvent(self, event: QMoveEvent) -> None:
        super().moveEvent(event)
        self._refit_for_frame()  # a window manager's frame moves the client down

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange:
            self._refit_for_frame()  # a window manager that framed the dialog without moving it

    def _refit_for_frame(self) -> None:
        """A window manager frames the dialog after its first show: the room left on screen shrank by the
        title bar, which the first fit could not know."""
        frame = self.frameGeometry().size() - self.size()
        if frame != self._frame_fitted and self.isVisible():
            self._frame_fitted = frame
            self._fit()

    # --- saving
    def _ok(self) -> None:
        self._apply(close_after=True)

    def _apply(self, close_after: bool = False) -> None:
        if self.form.demo:
            if close_after:
                self.accept()
            return
        result = self.form.save(self.values())
        if result.settings is None:
            self._show_problems(result.problems)
            self._show_text(self.status, result.message, "error")
            (self.miner_edit if result.problems.miner else self.url_edit).setFocus()
            self._fit()
            return
        self._show_text(self.status, result.message, "error" if result.error else "")
        if result.miner_id is None:
            self._finish(result.settings, None, close_after)
            return
        self._set_busy(True, "Storing the miner id in the OS keyring…")
        miner_id, settings = result.miner_id, result.settings
        self._run(
            lambda: self.form.store_miner_id(miner_id),
            lambda _r, err: self._after_store(settings, miner_id, err, close_after),
        )

    def _after_store(
        self, settings: Settings, miner_id: str, error: Exception | None, close_after: bool
    ) -> None:
        self._set_busy(False)
        if error is not None:
            # The settings are saved; the id is kept in the field, so nothing typed is lost.
            self._show_text(self.status, f"Settings saved, but the miner id was not stored: {error}", "error")
            self._fit()
            return
        self.miner_edit.clear()
        self._masked = mask_secret(miner_id)
        self.miner_edit.setPlaceholderText(PLACEHOLDER_KEEP)
        self._show_text(self.miner_note, f"Stored in the OS keyring: {self._masked}", "")
        self._finish(settings, miner_id, close_after)

    def _finish(self, settings: Settings, miner_id: str | None, close_after: bool) -> None:
        self.applied.emit(settings, miner_id)
        if self.status.property("tone") != "error":
            self._show_text(
                self.status, "Saved. The running agent uses the new settings from its next heartbeat.", "ok"
            )
        self._fit()
        if close_after:
            self.accept()

    def _set_busy(self, busy: bool, text: str = "") -> None:
        for widget in (self.ok_button, self.apply_button, self.test_button):
            widget.setEnabled(not busy)
        if text:
            self._show_text(self.status, text)
        if not busy:
            self._check()

    def _run(
        self,
        fn: Callable[[], object],
        on_done: Callable[[Any, Exception | None], None],
        cancel: Callable[[], None] | None = None,
    ) -> None:
        call = BackgroundCall(fn, self, cancel)
        self._calls.add(call)

        def done(result: object, error: Exception | None) -> None:
            self._calls.discard(call)
            on_done(result, error)

        call.done.connect(done)
        call.start()

    # --- test connection
    def _test_connection(self) -> None:
        test = self.form.connection_test(self.url_edit.text(), self.miner_edit.text())
        self.test_button.setEnabled(False)
        self._show_text(self.test_result, "Sending one heartbeat…")
        round_ = self._test_round
        self._run(
            test.run, lambda r, e: self._show_test_result(r, e, round_), cancel=test.cancel
        )  # Quit cuts it, even a hang

    def _forget_test_result(self, *_args: object) -> None:
        """A result speaks of the values it was made with: once the URL or the id changes it is gone."""
        self._test_round += 1
        if self.test_result.isVisible():
            self._show_text(self.test_result, "")
            self.test_result.setProperty("outcome", None)
            self._fit()

    def _show_test_result(
        self, result: TestResult | None, error: Exception | None, round_: int | None = None
    ) -> None:
        self.test_button.setEnabled(self.form.check(self.values()).url is None)
        if result is not None and result.told is not None:
            self.told_offline.emit(result.told)  # true whatever the fields say now
        if round_ is not None and round_ != self._test_round:
            return  # the fields changed while it ran: its verdict is about values no longer shown
        if error is not None:
            self._show_text(self.test_result, f"Test failed: {error}", "error")
        elif result is not None:  # a run that raised nothing returned its result
            self._show_text(self.test_result, result.text, "ok" if result.ok else "error")
            self.test_result.setProperty("outcome", result.kind)
        self._fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A field that takes the focus scrolls into view when the form scrolls (a short screen)."""
        if event.type() == QEvent.Type.FocusIn and isinstance(watched, QWidget):
            self.form_scroll.ensureWidgetVisible(watched)
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.reject()
            return
        super().keyPressEvent(event)
