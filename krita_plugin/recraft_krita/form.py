"""Qt widgets for an operation's form, built from recraft_core.api.forms: one widget per field,
read back into parameters. No field, range or model rule is spelled out here."""

from __future__ import annotations

import contextlib
import logging

from recraft_core import ValidationError
from recraft_core.api import forms
from recraft_core.workflow import styles

from . import history
from .qt import QtCore, QtWidgets

log = logging.getLogger("recraft_krita")

_NONE = "—"  # shown for "not set: the API's default"
NARROW = 7  # characters a drop-down shows at the least: a docker may be narrow
SAVED_STYLE = "style_id"  # the field that takes a style made with Create style


def narrow(combo: QtWidgets.QComboBox) -> QtWidgets.QComboBox:
    """A drop-down that may be narrower than its longest entry (it elides it), so that the
    form fits a narrow docker without a sideways scroll bar; its list shows them whole."""
    policy = QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
    combo.setSizeAdjustPolicy(policy)
    combo.setMinimumContentsLength(NARROW)
    return combo


class FieldWidget:
    """One field: its widget, and how to read and set its value."""

    def __init__(self, field: forms.FormField, parent, on_change) -> None:
        self.field = field
        f = field
        if f.type == "choice":
            w = narrow(QtWidgets.QComboBox(parent))
            if f.optional:
                w.addItem(_NONE, None)
            for value, label in zip(f.choices, f.choice_labels or f.choices, strict=False):
                w.addItem(label, value)
            if f.default is not None:
                w.setCurrentIndex(max(0, w.findData(f.default)))
            w.currentIndexChanged.connect(on_change)
        elif f.type == "bool":
            w = QtWidgets.QCheckBox(parent)
            w.stateChanged.connect(on_change)
        elif f.type in ("int", "float") and f.widget != "seed" and f.high is not None:
            w = QtWidgets.QSpinBox(parent) if f.type == "int" else QtWidgets.QDoubleSpinBox(parent)
            low = f.low if f.low is not None else 0
            if f.type == "float":
                w.setDecimals(2)
            step = f.step or 1
            # An optional number shows "—" one step below its range: not sent at all.
            w.setRange(low - step if f.optional else low, f.highest)
            w.setSingleStep(step)
            if f.optional:
                w.setSpecialValueText(_NONE)
                w.setValue(low - step)
            elif f.default is not None:
                w.setValue(f.default)
            w.valueChanged.connect(on_change)
        elif f.name == SAVED_STYLE:
            w = SavedStyleBox(f, parent)
            w.editTextChanged.connect(on_change)
        elif f.widget == "multiline":
            w = QtWidgets.QPlainTextEdit(parent)
            w.setMaximumHeight(72)
            w.setTabChangesFocus(True)
            w.textChanged.connect(on_change)
        else:
            w = QtWidgets.QLineEdit(parent)
            w.setPlaceholderText(f.placeholder)
            w.textChanged.connect(on_change)
        w.setToolTip(f.help)
        self.widget = w

    def value(self):
        f, w = self.field, self.widget
        if isinstance(w, SavedStyleBox):
            return w.style_id()
        if isinstance(w, QtWidgets.QComboBox):
            return w.currentData()
        if isinstance(w, QtWidgets.QCheckBox):
            return True if w.isChecked() else None
        if isinstance(w, QtWidgets.QSpinBox | QtWidgets.QDoubleSpinBox):
            if w.specialValueText() and w.value() == w.minimum():
                return None
            return w.value()
        text = w.toPlainText() if isinstance(w, QtWidgets.QPlainTextEdit) else w.text()
        return forms.parse(f, text)

    def set(self, value) -> None:
        w = self.widget
        if isinstance(w, SavedStyleBox):
            w.set_style_id(value)
        elif isinstance(w, QtWidgets.QComboBox):
            # "Not set" is the first item of an optional field's list (findData cannot find
            # a None on every binding).
            index = 0 if value is None and self.field.optional else w.findData(value)
            if index >= 0:
                w.setCurrentIndex(index)
        elif isinstance(w, QtWidgets.QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QtWidgets.QSpinBox | QtWidgets.QDoubleSpinBox):
            w.setValue(w.minimum() if value is None else value)
        elif isinstance(w, QtWidgets.QPlainTextEdit):
            w.setPlainText(forms.shown(self.field, value))
        else:
            w.setText(forms.shown(self.field, value))


class SavedStyleBox(QtWidgets.QComboBox):
    """Saved style: the styles the artist made (styles.offered: kept in the results library
    by Krita, GIMP and the recraft command), by name, newest first; or a style id typed or
    pasted. The list shows names, the id of the one chosen is what is sent. The library is
    read on History's thread (never Krita's UI thread); with the library off the list stays
    empty and a typed id is what works."""

    read = QtCore.pyqtSignal()  # the saved styles are in the list (`offered`)

    def __init__(self, field: forms.FormField, parent=None) -> None:
        super().__init__(parent)
        narrow(self)
        self.field = field
        self.offered: list[styles.SavedStyle] | None = None  # None: not read (yet)
        self.setEditable(True)
        self.setInsertPolicy(QtWidgets.QComboBox.InsertPolicy.NoInsert)
        self.lineEdit().setPlaceholderText("your saved styles, or a style id")
        self.currentIndexChanged.connect(self._show_start)
        self._read()

    def _read(self) -> None:
        def done(found, error) -> None:
            # RuntimeError: the form was rebuilt meanwhile, and this box is gone.
            with contextlib.suppress(RuntimeError):
                self._offer(found or [])
            if error:
                log.warning("recraft: the saved styles could not be read: %s", error)

        history.worker().submit(styles.offered, done)

    def _offer(self, found: list) -> None:
        """Fill the list, keeping what the box holds (an id set before the list came)."""
        keep = self.style_id(strict=False)
        self.blockSignals(True)
        try:
            self.clear()
            for style in found:
                self.addItem(style.label, style.id)
                self.setItemData(self.count() - 1, style.id, QtCore.Qt.ItemDataRole.ToolTipRole)
            self.offered = list(found)
            self.set_style_id(keep)
        finally:
            self.blockSignals(False)
        # The box may be narrow (a docker), its list is not: the names show whole there.
        view = self.view()
        view.setMinimumWidth(view.sizeHintForColumn(0) + 2 * view.frameWidth() + 8)
        self._show_start()
        self.read.emit()

    def _show_start(self, *_) -> None:
        """A chosen style's name from its start (what it was made from), however narrow the
        box: a line edit scrolls to where its cursor is, the end of a text set in it. The
        whole name in the tooltip."""
        self.lineEdit().setCursorPosition(0)
        found = self.offered or []
        tip = f"{len(found)} saved styles, newest first. " if found else ""
        index = self.currentIndex()
        if index >= 0 and self.itemData(index) and self.currentText() == self.itemText(index):
            tip = f"{self.itemText(index)}\n\n{tip}"
        self.setToolTip(tip + self.field.help)

    def label_of(self, style_id: str | None) -> str | None:
        """The name the list shows for this style id; None when it is not in the list (not
        read yet, or not kept: the library is off)."""
        found = styles.find(self.offered or [], style_id) if style_id else None
        return found.label if found is not None else None

    def style_id(self, strict: bool = True):
        """The id to send: the chosen style's, or the text typed (checked when `strict`)."""
        text = self.currentText().strip()
        if not text:
            return None
        index = self.findText(text, QtCore.Qt.MatchFlag.MatchExactly)
        if index >= 0 and self.itemData(index):
            return self.itemData(index)
        return forms.parse(self.field, text) if strict else text

    def set_style_id(self, value) -> None:
        """Show a style by its name when it is one of the list's, else the id as it is."""
        found = styles.find(self.offered or [], value) if value else None
        if found is not None:
            self.setCurrentIndex(self.findData(found.id))
        else:
            self.setCurrentIndex(-1)
            self.setEditText(str(value or ""))
        self._show_start()


class OperationForm(QtWidgets.QWidget):
    """The fields of one operation for the chosen model; rebuilt when the model changes,
    keeping the values the user typed."""

    changed = QtCore.pyqtSignal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.operation: str | None = None
        self.fields: dict[str, FieldWidget] = {}
        self._layout = QtWidgets.QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._body: QtWidgets.QWidget | None = None
        self._unfolded = False
        self.more_toggle: QtWidgets.QToolButton | None = None

    def build(self, operation: str, keep: dict | None = None) -> None:
        keep = dict(keep or {})
        model = keep.get("model")
        self.operation = operation
        if self._body is not None:
            self._body.deleteLater()
        body = QtWidgets.QWidget(self)
        main = QtWidgets.QFormLayout(body)
        main.setContentsMargins(0, 0, 0, 0)
        grow = QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow  # drop-downs too
        main.setFieldGrowthPolicy(grow)
        # The advanced fields fold away under a disclosure arrow (as Krita's own dockers do): a
        # folded group box would still draw an empty frame.
        more = QtWidgets.QWidget(body)
        fold = QtWidgets.QVBoxLayout(more)
        fold.setContentsMargins(0, 0, 0, 0)
        toggle = QtWidgets.QToolButton(more)
        toggle.setText("More options")
        toggle.setCheckable(True)
        toggle.setAutoRaise(True)
        toggle.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        more_box = QtWidgets.QWidget(more)
        more_layout = QtWidgets.QFormLayout(more_box)
        more_layout.setContentsMargins(0, 0, 0, 0)
        more_layout.setFieldGrowthPolicy(grow)
        fold.addWidget(toggle)
        fold.addWidget(more_box)

        def unfold(on: bool) -> None:
            self._unfolded = on  # kept when the form is rebuilt for another model
            more_box.setVisible(on)
            arrow = QtCore.Qt.ArrowType.DownArrow if on else QtCore.Qt.ArrowType.RightArrow
            toggle.setArrowType(arrow)

        toggle.toggled.connect(unfold)
        toggle.setChecked(self._unfolded)
        unfold(self._unfolded)
        self.more_toggle = toggle
        self.fields = {}
        for field in forms.fields_for(operation, model):
            fw = FieldWidget(field, body, self._changed)
            self.fields[field.name] = fw
            label = field.label + (" *" if field.required else "")
            (more_layout if field.advanced else main).addRow(label, fw.widget)
        for name, value in keep.items():
            if name in self.fields and value is not None:
                self.fields[name].set(value)
        if "model" in self.fields:
            # Only now: setting the kept model above must not rebuild the form from inside
            # its own build (which set it again, and so on without end).
            self.fields["model"].widget.currentIndexChanged.connect(self._model_changed)
        if more_layout.rowCount():
            main.addRow(more)
            # One label column for both layouts, so the folded fields line up with the rest.
            labels = [main.labelForField(fw.widget) or more_layout.labelForField(fw.widget)
                      for fw in self.fields.values()]  # fmt: skip
            width = max((label.sizeHint().width() for label in labels if label), default=0)
            for label in labels:
                if label is not None:
                    label.setMinimumWidth(width)
        else:
            more.deleteLater()
            self.more_toggle = None
        self._layout.addWidget(body)
        self._body = body
        self.changed.emit()

    def _changed(self, *_) -> None:
        self.changed.emit()

    def _model_changed(self, *_) -> None:
        self.build(self.operation, self.raw_values())

    def raw_values(self) -> dict:
        """What the widgets hold, without checking (to keep it across a rebuild)."""
        out = {}
        for name, fw in self.fields.items():
            try:
                out[name] = fw.value()
            except ValidationError:
                out[name] = None
        return out

    def values(self) -> dict:
        """The parameters to send; ValidationError names a field a user typed wrong."""
        return forms.collect(self.operation, {n: fw.value() for n, fw in self.fields.items()})

    def set_values(self, values: dict) -> None:
        if "model" in values and "model" in self.fields:
            self.fields["model"].set(values["model"])  # rebuilds the fields for that model
        for name, value in values.items():
            if name in self.fields:
                self.fields[name].set(value)
            elif isinstance(value, dict):  # controls={"no_text": True}
                for part, item in value.items():
                    if f"{name}.{part}" in self.fields:
                        self.fields[f"{name}.{part}"].set(item)
