"""The settings dialog: everything a miner sets once, checked as they type, impossible to save wrong."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from polaris_tray.core.config.miner_id import (
    InvalidMinerId,
    read_legacy_miner_id,
    resolve_miner_id,
    validate_miner_id,
)
from polaris_tray.core.config.secret_store import SecretStore
from polaris_tray.core.config.settings import (
    MAX_INTERVAL_S,
    MIN_INTERVAL_S,
    InvalidSetting,
    Settings,
    validate,
)
from polaris_tray.core.config.urls import InvalidServerUrl, normalize_server_url
from polaris_tray.core.heartbeat.engine import Probe
from polaris_tray.core.platform.autostart.base import Autostart, AutostartError
from polaris_tray.core.status.snapshot import outcome_words
from polaris_tray.core.storage.logs import LEVELS, register_secret
from polaris_tray.core.storage.redact import mask_secret
from polaris_tray.gui.background import BackgroundCall

ERROR_STYLE = "color: #c5221f;"
OK_STYLE = "color: #188038;"


class SettingsDialog(QDialog):
    applied = Signal(object, object)  # Settings, the new miner id or None (unchanged)

    def __init__(
        self, store, autostart: Autostart, secret_store: SecretStore | None = None, parent=None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Polaris Tray — Settings")
        self.setObjectName("settingsDialog")
        self._store = store
        self._autostart = autostart
        self._secrets = secret_store or SecretStore()
        self._calls: set[BackgroundCall] = set()
        self._build()

    # --- layout
    def _build(self) -> None:
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.intro.hide()

        self.url_edit = QLineEdit()
        self.url_edit.setAccessibleName("Server URL")
        self.url_edit.setPlaceholderText("https://…/api/v1")
        self.url_edit.textChanged.connect(self._check)
        self.url_reason = QLabel()
        self.url_reason.setWordWrap(True)
        self.url_reason.setAccessibleName("Server URL problem")

        self.miner_edit = QLineEdit()
        self.miner_edit.setAccessibleName("Miner ID")
        self.miner_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.miner_edit.setPlaceholderText("leave empty to keep the stored id")
        self.miner_edit.textChanged.connect(self._check)
        self.show_button = QPushButton("Sho&w")
        self.show_button.setCheckable(True)
        self.show_button.setAccessibleName("Show the miner id")
        self.show_button.toggled.connect(self._toggle_miner_echo)
        self.import_button = QPushButton("&Import from user_info.json…")
        self.import_button.clicked.connect(self._import_legacy)
        self.miner_note = QLabel()
        self.miner_note.setWordWrap(True)
        self.miner_note.setAccessibleName("Miner ID status")
        miner_row = QHBoxLayout()
        miner_row.addWidget(self.miner_edit, 1)
        miner_row.addWidget(self.show_button)

        self.interval_spin = QDoubleSpinBox()
        self.interval_spin.setAccessibleName("Heartbeat interval in seconds")
        self.interval_spin.setRange(MIN_INTERVAL_S, MAX_INTERVAL_S)
        self.interval_spin.setDecimals(0)
        self.interval_spin.setSuffix(" s")
        self.start_on_launch = QCheckBox("Start the &heartbeat when the app starts")
        self.start_at_login = QCheckBox("Start Polaris Tray at &login")
        self.notify_box = QCheckBox("Show &notifications when the connection changes")
        self.level_combo = QComboBox()
        self.level_combo.setAccessibleName("Log level")
        self.level_combo.addItems(list(LEVELS))

        self.test_button = QPushButton("&Test connection")
        self.test_button.clicked.connect(self._test_connection)
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        self.test_result.setAccessibleName("Test connection result")
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        url_label = QLabel("&Server URL:")
        url_label.setBuddy(self.url_edit)
        form.addRow(url_label, self.url_edit)
        form.addRow("", self.url_reason)
        miner_label = QLabel("&Miner ID:")
        miner_label.setBuddy(self.miner_edit)
        form.addRow(miner_label, miner_row)
        form.addRow("", self.miner_note)
        form.addRow("", self.import_button)
        interval_label = QLabel("Heartbeat &interval:")
        interval_label.setBuddy(self.interval_spin)
        form.addRow(interval_label, self.interval_spin)
        form.addRow("", self.start_on_launch)
        form.addRow("", self.start_at_login)
        form.addRow("", self.notify_box)
        level_label = QLabel("Log le&vel:")
        level_label.setBuddy(self.level_combo)
        form.addRow(level_label, self.level_combo)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Apply
            | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._ok)
        self.buttons.rejected.connect(self.reject)
        self.apply_button.clicked.connect(self._apply)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Settings status")

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addLayout(test_row)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        for first, second in (
            (self.url_edit, self.miner_edit),
            (self.miner_edit, self.show_button),
            (self.show_button, self.import_button),
            (self.import_button, self.interval_spin),
            (self.interval_spin, self.start_on_launch),
            (self.start_on_launch, self.start_at_login),
            (self.start_at_login, self.notify_box),
            (self.notify_box, self.level_combo),
            (self.level_combo, self.test_button),
            (self.test_button, self.buttons),
        ):
            self.setTabOrder(first, second)
        for note in (self.url_reason, self.miner_note, self.test_result, self.status):
            note.setMinimumWidth(380)  # word-wrapped labels in a form otherwise shrink to a sliver
        self.setMinimumWidth(600)

    @property
    def ok_button(self):
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    @property
    def apply_button(self):
        return self.buttons.button(QDialogButtonBox.StandardButton.Apply)

    # --- state
    def load(self, settings: Settings, first_run: bool = False, miner_masked: str | None = None) -> None:
        self.url_edit.setText(settings.server_url)
        self.interval_spin.setValue(settings.interval_s)
        self.start_on_launch.setChecked(settings.start_heartbeat_on_launch)
        self.notify_box.setChecked(settings.notifications)
        self.level_combo.setCurrentText(settings.log_level)
        try:
            self.start_at_login.setChecked(self._autostart.is_enabled())
        except (OSError, AutostartError):
            self.start_at_login.setChecked(False)
        self.miner_edit.clear()
        self.test_result.clear()
        self.status.clear()
        self.miner_note.setText(
            f"Stored in the OS keyring: {miner_masked}"
            if miner_masked and miner_masked != "(none)"
            else "Stored only in the OS keyring, never in a file."
        )
        self.intro.setVisible(first_run)
        # First run with no id anywhere: OK without one would save and leave a grey app; say so instead.
        self._needs_id = first_run and not (miner_masked and miner_masked != "(none)")
        if first_run:
            self.intro.setText(
                "<b>Welcome to Polaris Tray.</b> Enter your miner id (from <code>polaris register</code>) "
                "or import it from the Polaris CLI's user_info.json, then press OK."
            )
        self._check()

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
        value = read_legacy_miner_id(path)
        if not value:
            self.miner_note.setText(f"No valid miner_id in {path.name}.")
            self.miner_note.setStyleSheet(ERROR_STYLE)
            return False
        register_secret(value)
        self.miner_edit.setText(value)
        self.miner_note.setText(
            f"Imported from {path.name} (only miner_id was read); OK stores it in the keyring."
        )
        self.miner_note.setStyleSheet("")
        return True

    def _problems(self) -> tuple[str | None, str | None]:
        url_problem = miner_problem = None
        try:
            normalize_server_url(self.url_edit.text())
        except InvalidServerUrl as exc:
            url_problem = str(exc)
        if self.miner_edit.text():
            try:
                validate_miner_id(self.miner_edit.text())
            except InvalidMinerId as exc:
                miner_problem = str(exc)
        return url_problem, miner_problem

    def _check(self) -> bool:
        url_problem, miner_problem = self._problems()
        self.url_reason.setText(url_problem or "")
        self.url_reason.setStyleSheet(ERROR_STYLE if url_problem else "")
        self.url_reason.setVisible(bool(url_problem))
        if miner_problem:
            self.miner_note.setText(miner_problem)
            self.miner_note.setStyleSheet(ERROR_STYLE)
        elif self.miner_note.styleSheet() == ERROR_STYLE and not self.miner_note.text().startswith(
            "No valid"
        ):
            self.miner_note.setText("Stored only in the OS keyring, never in a file.")
            self.miner_note.setStyleSheet("")
        valid = not (url_problem or miner_problem)
        self.ok_button.setEnabled(valid)
        self.apply_button.setEnabled(valid)
        self.test_button.setEnabled(not url_problem)
        self._fit()
        return valid

    def _fit(self) -> None:
        """Grow to fit a message that appeared: the user must be able to read why."""
        layout = self.layout()
        if layout is not None:
            layout.activate()
        if self.height() < self.sizeHint().height():
            self.resize(self.width(), self.sizeHint().height())

    def current_settings(self) -> Settings:
        return Settings(
            server_url=self.url_edit.text(),
            interval_s=float(self.interval_spin.value()),
            start_heartbeat_on_launch=self.start_on_launch.isChecked(),
            notifications=self.notify_box.isChecked(),
            log_level=self.level_combo.currentText(),
        )

    # --- saving
    def _ok(self) -> None:
        self._apply(close_after=True)

    def _apply(self, close_after: bool = False) -> None:
        if getattr(self, "_needs_id", False) and not self.miner_edit.text().strip():
            self.miner_note.setText("Enter your miner id: the heartbeat cannot start without it.")
            self.miner_note.setStyleSheet(ERROR_STYLE)
            self.miner_edit.setFocus()
            self._fit()
            return
        if not self._check():
            self.status.setText("Fix the values marked in red first: nothing was saved.")
            self.status.setStyleSheet(ERROR_STYLE)
            return
        try:
            settings = validate(self.current_settings())
            self._store.save(settings)
        except (InvalidSetting, OSError) as exc:
            self.status.setText(f"Not saved: {exc}")
            self.status.setStyleSheet(ERROR_STYLE)
            return
        try:
            if self.start_at_login.isChecked():
                self._autostart.enable()
            else:
                self._autostart.disable()
        except AutostartError as exc:
            self.status.setText(f"Saved, but start at login could not be changed: {exc}")
            self.status.setStyleSheet(ERROR_STYLE)
        miner_text = self.miner_edit.text().strip()
        if not miner_text:
            self._finish(settings, None, close_after)
            return
        miner_id = validate_miner_id(miner_text)
        register_secret(miner_id)
        self._set_busy(True, "Storing the miner id in the OS keyring…")
        self._run(
            lambda: self._secrets.set(miner_id),
            lambda _r, err: self._after_store(settings, miner_id, err, close_after),
        )

    def _after_store(self, settings: Settings, miner_id: str, error, close_after: bool) -> None:
        self._set_busy(False)
        if error is not None:
            # The settings are saved; the id is kept in the field, so nothing typed is lost.
            self.status.setText(f"Settings saved, but the miner id was not stored: {error}")
            self.status.setStyleSheet(ERROR_STYLE)
            return
        self.miner_edit.clear()
        self._needs_id = False
        self.miner_note.setText(f"Stored in the OS keyring: {mask_secret(miner_id)}")
        self.miner_note.setStyleSheet("")
        self._finish(settings, miner_id, close_after)

    def _finish(self, settings: Settings, miner_id: str | None, close_after: bool) -> None:
        self.applied.emit(settings, miner_id)
        if not self.status.text() or self.status.styleSheet() != ERROR_STYLE:
            self.status.setText("Saved. The running agent uses the new settings from its next heartbeat.")
            self.status.setStyleSheet(OK_STYLE)
        if close_after:
            self.accept()

    def _set_busy(self, busy: bool, text: str = "") -> None:
        for widget in (self.ok_button, self.apply_button, self.test_button):
            widget.setEnabled(not busy)
        if text:
            self.status.setText(text)
            self.status.setStyleSheet("")
        if not busy:
            self._check()

    def _run(self, fn, on_done, cancel=None) -> None:
        call = BackgroundCall(fn, self, cancel)
        self._calls.add(call)

        def done(result, error) -> None:
            self._calls.discard(call)
            on_done(result, error)

        call.done.connect(done)
        call.start()

    # --- test connection
    def _test_connection(self) -> None:
        try:
            url = normalize_server_url(self.url_edit.text())
        except InvalidServerUrl as exc:
            self.test_result.setText(str(exc))
            return
        typed = self.miner_edit.text().strip()
        secrets = self._secrets

        probe = Probe(url)  # Quit cancels it, even against a server that hangs

        def attempt():
            miner_id = typed or resolve_miner_id(secrets).miner_id
            if not miner_id:
                return None, "(none)"
            return probe.attempt(miner_id), mask_secret(miner_id)

        self.test_button.setEnabled(False)
        self.test_result.setText("Sending one heartbeat…")
        self.test_result.setStyleSheet("")
        self._run(attempt, self._show_test_result, cancel=probe.cancel)

    def _show_test_result(self, result, error) -> None:
        self.test_button.setEnabled(True)
        if error is not None:
            self.test_result.setText(f"Test failed: {error}")
            self.test_result.setStyleSheet(ERROR_STYLE)
            return
        outcome, masked = result
        if outcome is None:
            self.test_result.setText("No miner id to test with: enter one above.")
            self.test_result.setStyleSheet(ERROR_STYLE)
            return
        self.test_result.setText(outcome_words(outcome, masked))
        self.test_result.setStyleSheet(OK_STYLE if outcome.ok else ERROR_STYLE)
        self.test_result.setProperty("outcome", outcome.kind.value)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.reject()
            return
        super().keyPressEvent(event)
