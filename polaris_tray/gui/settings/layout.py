"""The settings dialog's widgets and their order: layout only, no rule and no state."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from polaris_tray.core.config.limits import SAVED_INTERVAL_MAX_S as MAX_INTERVAL_S
from polaris_tray.core.config.limits import SAVED_INTERVAL_MIN_S as MIN_INTERVAL_S
from polaris_tray.core.setup.settings_form import ADVANCED, SAVE_SERVER, WHERE_IS_MY_ID
from polaris_tray.core.storage.logs import LEVELS

NOTE_WIDTH = 420  # word-wrapped labels in a form otherwise shrink to a sliver
# One stylesheet, keyed by a "tone" property: the state lives in the form model, not in style strings.
TONES = 'QLabel[tone="error"] { color: #c5221f; } QLabel[tone="ok"] { color: #188038; }'


def set_tone(label: QLabel, tone: str) -> None:
    if label.property("tone") != tone:
        label.setProperty("tone", tone)
        label.style().unpolish(label)
        label.style().polish(label)


def _note(name: str) -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setAccessibleName(name)
    label.setMinimumWidth(NOTE_WIDTH)
    label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)  # fill the field column
    label.setProperty("tone", "")
    return label


class SettingsWidgets(QDialog):
    """The widgets build() creates, by name, so the view that reads them is type-checked."""

    intro: QLabel
    override_note: QLabel
    url_edit: QLineEdit
    url_reason: QLabel
    miner_edit: QLineEdit
    show_button: QPushButton
    import_button: QPushButton
    miner_note: QLabel
    where_note: QLabel
    advanced_toggle: QToolButton
    advanced: QWidget
    save_server: QCheckBox
    interval_spin: QDoubleSpinBox
    start_on_launch: QCheckBox
    start_at_login: QCheckBox
    notify_box: QCheckBox
    level_combo: QComboBox
    test_button: QPushButton
    test_result: QLabel
    buttons: QDialogButtonBox
    status: QLabel
    page: QWidget  # everything above the status and the buttons, in the scroll area
    form_scroll: QScrollArea  # not scroll: that would hide QWidget.scroll()


def build(d: SettingsWidgets) -> None:
    """Creates the dialog's widgets as attributes of d (the view reads and writes them by name)."""
    d.setStyleSheet(TONES)
    d.intro = _note("Settings introduction")
    d.intro.hide()
    d.override_note = _note("Command-line overrides")
    d.override_note.hide()

    d.url_edit = QLineEdit()
    d.url_edit.setAccessibleName("Server URL")
    d.url_edit.setPlaceholderText("https://…/api/v1")
    d.url_reason = _note("Server URL problem")
    d.url_reason.hide()

    d.miner_edit = QLineEdit()
    d.miner_edit.setAccessibleName("Miner ID")
    d.miner_edit.setEchoMode(QLineEdit.EchoMode.Password)
    d.show_button = QPushButton("Sho&w")
    d.show_button.setCheckable(True)
    d.show_button.setAccessibleName("Show the miner id")
    d.import_button = QPushButton("&Import from user_info.json…")
    d.miner_note = _note("Miner ID status")
    d.where_note = _note("Where do I get my miner id?")
    d.where_note.setText(WHERE_IS_MY_ID)
    d.where_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    miner_row = QHBoxLayout()
    miner_row.addWidget(d.miner_edit, 1)
    miner_row.addWidget(d.show_button)

    d.save_server = QCheckBox(SAVE_SERVER)
    d.save_server.hide()
    d.interval_spin = QDoubleSpinBox()
    d.interval_spin.setAccessibleName("Heartbeat interval in seconds")
    d.interval_spin.setRange(MIN_INTERVAL_S, MAX_INTERVAL_S)
    d.interval_spin.setDecimals(0)
    d.interval_spin.setSuffix(" s")
    d.start_on_launch = QCheckBox("Start the &heartbeat when the app starts")
    d.start_at_login = QCheckBox("Start Polaris Tray at &login")
    d.notify_box = QCheckBox("Show &notifications when the connection changes")
    d.level_combo = QComboBox()
    d.level_combo.setAccessibleName("Log level")
    d.level_combo.addItems(list(LEVELS))

    d.test_button = QPushButton("&Test connection")
    d.test_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
    d.test_result = _note("Test connection result")
    d.test_result.setMinimumWidth(0)
    test_row = QHBoxLayout()
    test_row.addWidget(d.test_button)
    test_row.addWidget(d.test_result, 1)
    test_row.addStretch(0)  # keeps the button its own size while there is no result beside it

    # What a newcomer needs first (the id); server, interval and log level behind a disclosure.
    form = _form(
        ("&Miner ID:", d.miner_edit, miner_row),
        ("", None, d.miner_note),
        ("", None, d.where_note),
        ("", None, d.import_button),
        ("", None, d.start_on_launch),
        ("", None, d.start_at_login),
        ("", None, d.notify_box),
    )
    d.advanced_toggle = QToolButton()
    d.advanced_toggle.setObjectName("advancedToggle")
    d.advanced_toggle.setText(ADVANCED)
    d.advanced_toggle.setAccessibleName("Advanced settings")
    d.advanced_toggle.setCheckable(True)
    d.advanced_toggle.setAutoRaise(True)
    d.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    d.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
    d.advanced_toggle.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    d.advanced = QWidget()
    d.advanced.setObjectName("advancedSettings")
    advanced = _form(
        ("&Server URL:", d.url_edit, d.url_edit),
        ("", None, d.url_reason),
        ("", None, d.save_server),
        ("Heartbeat inte&rval:", d.interval_spin, d.interval_spin),
        ("Log le&vel:", d.level_combo, d.level_combo),
    )
    advanced.setContentsMargins(0, 0, 0, 0)
    labels = [form.labelForField(f) for f in (miner_row,)] + [
        advanced.labelForField(f) for f in (d.url_edit, d.interval_spin, d.level_combo)
    ]
    width = max(label.sizeHint().width() for label in labels if label is not None)
    for label in labels:
        if label is not None:
            label.setMinimumWidth(width)  # both forms' fields start in one column
    d.advanced.setLayout(advanced)
    d.advanced.hide()

    d.buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok
        | QDialogButtonBox.StandardButton.Apply
        | QDialogButtonBox.StandardButton.Cancel
    )
    for button, text in (("Ok", "&OK"), ("Apply", "&Apply"), ("Cancel", "&Cancel")):
        d.buttons.button(getattr(QDialogButtonBox.StandardButton, button)).setText(text)  # not every theme
    d.status = _note("Settings status")
    d.status.hide()

    d.page = QWidget()
    d.page.setObjectName("settingsPage")
    page = QVBoxLayout(d.page)
    page.setContentsMargins(0, 0, 0, 0)
    page.addWidget(d.intro)
    page.addWidget(d.override_note)
    page.addLayout(form)
    page.addWidget(d.advanced_toggle)
    page.addWidget(d.advanced)
    page.addLayout(test_row)
    # A screen too short for the whole form (Advanced open at scale 2 on 1280x720) scrolls the form;
    # the status and OK/Apply/Cancel stay below it, always on screen.
    d.form_scroll = QScrollArea()
    d.form_scroll.setObjectName("settingsScroll")
    d.form_scroll.setWidget(d.page)
    d.form_scroll.setWidgetResizable(True)
    d.form_scroll.setFrameShape(QFrame.Shape.NoFrame)
    d.form_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # not a stop in the Tab order: its fields are
    d.form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    layout = QVBoxLayout(d)
    layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
    layout.addWidget(d.form_scroll, 1)
    layout.addWidget(d.status)
    layout.addWidget(d.buttons)
    for first, second in (
        (d.miner_edit, d.show_button),
        (d.show_button, d.import_button),
        (d.import_button, d.start_on_launch),
        (d.start_on_launch, d.start_at_login),
        (d.start_at_login, d.notify_box),
        (d.notify_box, d.advanced_toggle),
        (d.advanced_toggle, d.url_edit),
        (d.url_edit, d.save_server),
        (d.save_server, d.interval_spin),
        (d.interval_spin, d.level_combo),
        (d.level_combo, d.test_button),
        (d.test_button, d.buttons),
    ):
        d.setTabOrder(first, second)
    d.setMinimumWidth(600)


def _form(*rows: tuple[str, QWidget | None, QWidget | QLayout]) -> QFormLayout:
    form = QFormLayout()
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
    for text, buddy, field in rows:
        label = QLabel(text)
        if buddy is not None:
            label.setBuddy(buddy)
        form.addRow(label, field)
        if text == "":
            label.hide()  # an empty label still takes the row's spacing when the field hides
    return form


def show_advanced(d: SettingsWidgets, shown: bool) -> None:
    """The disclosure: its arrow and its panel follow one state."""
    if d.advanced_toggle.isChecked() != shown:
        d.advanced_toggle.setChecked(shown)
    d.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
    d.advanced.setVisible(shown)


def fit(d: SettingsWidgets, notes: Iterable[QWidget]) -> None:
    """Height from the content at the current width: grows for a message, shrinks when it goes, and never
    past the screen's available height: there the form scrolls, the status and the buttons stay in view.

    QFormLayout under-counts word-wrapped rows, so each visible note is given its height for its
    actual width as a minimum before the dialog takes the layout's height."""
    layout = d.layout()
    page = d.page.layout()
    assert layout is not None and page is not None  # build() gave the dialog and its page their layouts
    inner = [lay for lay in (w.layout() for w in d.page.findChildren(QWidget)) if lay is not None]
    layout.activate()
    for note in notes:
        note.setMinimumHeight(note.heightForWidth(note.width()) if note.isVisible() else 0)
    for child in inner:  # a panel's own layout (the disclosure) learns its notes' new heights first
        child.invalidate()
        child.activate()
    page.invalidate()
    page.activate()
    content = max(page.totalHeightForWidth(d.page.width()), page.totalMinimumSize().height())
    d.form_scroll.setMinimumSize(page.totalMinimumSize().width(), content)  # the whole form, if it fits
    d.form_scroll.setMaximumHeight(content)
    layout.activate()
    height = max(layout.totalHeightForWidth(d.width()), layout.totalMinimumSize().height())
    room = _room(d)
    if room is not None and height > room.height():
        bar = d.form_scroll.verticalScrollBar().sizeHint().width()  # beside the form, never over it
        floor = 4 * d.fontMetrics().lineSpacing()
        d.form_scroll.setMinimumSize(
            page.totalMinimumSize().width() + bar, max(floor, content - (height - room.height()))
        )
        layout.activate()
        height = max(room.height(), layout.totalMinimumSize().height())
    if height != d.height():
        d.resize(d.width(), height)
    if room is not None and d.isVisible():
        _keep_on(d, room)


def _room(d: QWidget) -> QRect | None:
    """The screen's available geometry less the window manager's frame (none before the first show)."""
    screen = d.screen()
    if screen is None:
        return None
    frame = d.frameGeometry()
    return screen.availableGeometry().adjusted(0, 0, d.width() - frame.width(), d.height() - frame.height())


def _keep_on(d: QWidget, room: QRect) -> None:
    """Moves the dialog back inside the screen when it grew past its bottom or right edge."""
    frame = d.frameGeometry()
    extra_w, extra_h = frame.width() - d.width(), frame.height() - d.height()
    screen = room.adjusted(0, 0, extra_w, extra_h)  # the available geometry again, frame included
    x = max(screen.left(), min(frame.x(), screen.right() + 1 - frame.width()))
    y = max(screen.top(), min(frame.y(), screen.bottom() + 1 - frame.height()))
    if (x, y) != (frame.x(), frame.y()):
        d.move(x, y)
