"""Diagnose: the doctor's lines in a window, as they come, with Copy and Run again.

The walk runs as a BackgroundCall (it is bounded: well under 15 s whatever the network does; Quit drops it
rather than wait), and its lines come back to the window through a queued signal. The beat it sends says
"online" only while this tray is beating; a closed window simply drops what arrives after it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from polaris_tray.core.doctor import Check, DoctorInput, render, run_doctor
from polaris_tray.core.doctor.report import summary
from polaris_tray.core.doctor.verdict import AgentState
from polaris_tray.gui.beat.background_call import BackgroundCall


class _Bridge(QObject):
    line = Signal(object)
    done = Signal(object)


class DoctorDialog(QDialog):
    told_offline = Signal(object)  # the verdict's accepted "offline" (ToldOffline): the runner ends its count

    def __init__(
        self, server_url: str | None, beating: bool, parent: QWidget | None = None, *, start: bool = True
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Diagnose")  # Qt appends " — Polaris Tray"
        self.setObjectName("doctorDialog")
        self._server_url = server_url
        self._beating = beating
        self._checks: list[Check] = []
        self._run = 0  # which walk the arriving lines belong to: a Run again drops the old walk's lines
        # no parent: a walk under way holds it, so closing (deleting) the window never frees it under an emit;
        # the queued connections to this window end with the window
        self._bridge = _Bridge()
        self._bridge.line.connect(self._on_line, Qt.ConnectionType.QueuedConnection)
        self._bridge.done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        intro = QLabel(
            "Each link from this computer to the orchestrator, in order. A ✘ names what is broken and "
            "the line under it says what to do. The miner id is masked."
        )
        intro.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setObjectName("doctorText")
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.verdict = QLabel("Checking…")
        self.verdict.setObjectName("doctorSummary")
        self.verdict.setWordWrap(True)
        self.copy_button = QPushButton("&Copy")
        self.copy_button.clicked.connect(self.copy)
        self.again_button = QPushButton("&Run again")
        self.again_button.clicked.connect(self.start)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.again_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.verdict)
        layout.addLayout(buttons)
        self.resize(720, 440)
        if start:
            self.start()

    def start(self) -> None:
        self._run += 1
        run = self._run
        self._checks = []
        self.text.clear()
        self.verdict.setText("Checking… (at most about 15 seconds)")
        self.again_button.setEnabled(False)
        inp = DoctorInput(
            server_url=self._server_url,
            server_url_origin="in use by this tray",
            agent=AgentState(self._beating, "this tray"),
        )
        bridge = self._bridge

        def walk() -> None:
            try:
                checks = run_doctor(inp, report=lambda check: call.deliver(bridge.line, (run, check)))
            except Exception as exc:  # the window must say something, whatever happened
                call.deliver(bridge.done, (run, f"The doctor stopped: {type(exc).__name__}: {exc}"))
            else:
                call.deliver(bridge.done, (run, checks))

        # its own thread: the walk waits on the network and the keyring for seconds; the dialog must stay live
        call = BackgroundCall(walk, waited_on_quit=False)  # named before it starts: walk() refers to it
        call.start()

    def _on_line(self, item: tuple[int, Check]) -> None:
        run, check = item
        if run == self._run:
            self._checks.append(check)
            self.text.appendPlainText(render([check]).rstrip("\n"))

    def _on_done(self, item: tuple[int, str | list[Check]]) -> None:
        run, result = item
        if run != self._run:
            return
        self.again_button.setEnabled(True)
        self.verdict.setText(result if isinstance(result, str) else summary(result))
        for check in () if isinstance(result, str) else result:
            if check.told is not None:
                self.told_offline.emit(check.told)

    def report_text(self) -> str:
        return render(self._checks) + self.verdict.text() + "\n"

    def copy(self) -> str:
        text = self.report_text()
        QGuiApplication.clipboard().setText(text)
        return text


def open_doctor(parent: QWidget | None, server_url: str | None, beating: bool) -> DoctorDialog:
    dialog = DoctorDialog(server_url, beating, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
