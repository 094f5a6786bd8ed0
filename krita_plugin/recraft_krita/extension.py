"""Tools › Recraft: one-click operations on the active layer, and Settings."""

from __future__ import annotations

from krita import Extension, Krita

from recraft_core import settings
from recraft_core.api import catalog
from recraft_core.workflow import Options, missing_selection

from . import api, jobs
from .canvas import float_message
from .qt import QtWidgets

MENU = "recraft_menu"

# (action id, menu text, operation); those with None open a dialog first.
ACTIONS = (
    ("recraft_remove_background", "Remove Background", "remove_background"),
    ("recraft_crisp_upscale", "Crisp Upscale", "crisp_upscale"),
    ("recraft_creative_upscale", "Creative Upscale", "creative_upscale"),
    ("recraft_vectorize", "Vectorize", "vectorize"),
    ("recraft_erase_selection", "Erase Selection", "erase_region"),
    ("recraft_inpaint_selection", "Inpaint Selection…", None),
    ("recraft_remix", "Remix", None),
    ("recraft_settings", "Settings…", None),
)


class RecraftExtension(Extension):
    def setup(self) -> None:
        pass

    def createActions(self, window) -> None:  # Krita's name
        menu_action = window.createAction(MENU, "Recraft", "tools")
        menu = QtWidgets.QMenu("Recraft", window.qwindow())
        menu_action.setMenu(menu)
        for action_id, text, operation in ACTIONS:
            action = window.createAction(action_id, text, f"tools/{MENU}")
            handler = getattr(self, action_id.removeprefix("recraft_"), None)
            if operation is not None:
                action.triggered.connect(lambda _=False, op=operation: self._one_click(op))
            else:
                action.triggered.connect(handler)

    # -- the actions ---------------------------------------------------------------------------

    def _one_click(self, operation: str, params: dict | None = None) -> None:
        job = jobs.runner().start(operation, params or {}, on_done=_tell)
        if job is None:
            _say(jobs.runner().last_error)

    def inpaint_selection(self) -> None:
        document = Krita.instance().activeDocument()
        if document is not None and document.selection() is None:
            _say(missing_selection("inpaint").user_message)  # before asking for a prompt
            return
        window = Krita.instance().activeWindow()
        parent = window.qwindow() if window else None
        prompt, ok = QtWidgets.QInputDialog.getMultiLineText(
            parent, "Inpaint selection", "What should the selection show?"
        )
        if ok and prompt.strip():
            self._one_click("inpaint", {"prompt": prompt.strip()})

    def remix(self) -> None:
        """Remix needs a size: the default model's size closest to the layer's shape."""
        document = Krita.instance().activeDocument()
        if document is None:
            _say("Open an image first.")
            return
        family = catalog.MODELS[catalog.ALL_MODELS[0]].family
        ratio = document.width() / document.height()

        def distance(wxh: str) -> float:
            w, h = map(int, wxh.split("x"))
            return abs(w / h - ratio)

        size = min((wxh for _, wxh in family.sizes), key=distance)
        self._one_click("remix", {"size": size})

    def settings(self) -> None:
        SettingsDialog().exec()


def _tell(job) -> None:
    """After a one-click action: what happened, in the docker (so it never shows an earlier
    job's words), and on the canvas when it is more than "done"."""
    text, error = jobs.summary(job)
    _say(text, error, on_canvas=error or bool(job.outcome and job.outcome.notes))


def _say(text: str, error: bool = True, on_canvas: bool = True) -> None:
    """On the canvas for a few seconds, and in the docker when it is open."""
    if not text:
        return
    if on_canvas:
        float_message(text)
    panel = api.docker()
    if panel is not None:
        panel.show_message(text, error, on_canvas=False)


class SettingsDialog(QtWidgets.QDialog):
    """The token (saved readable by the user only), the server, and how results blend in."""

    def __init__(self) -> None:
        window = Krita.instance().activeWindow()
        super().__init__(window.qwindow() if window else None)
        self.setWindowTitle("Recraft settings")
        self.setMinimumWidth(520)  # room for a server address
        saved = settings.load()
        defaults = Options()
        layout = QtWidgets.QFormLayout(self)
        self.token = QtWidgets.QLineEdit(self)
        self.token.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("paste your Recraft API token")
        self.token.setText(saved.token or "")
        layout.addRow("API token", self.token)
        self.url = QtWidgets.QLineEdit(self)
        self.url.setPlaceholderText("https://external.api.recraft.ai/v1")
        self.url.setText(saved.base_url or "")
        layout.addRow("Server", self.url)
        self.grow = QtWidgets.QSpinBox(self)
        self.grow.setRange(0, 256)
        self.grow.setValue(defaults.grow if saved.grow is None else saved.grow)
        self.grow.setSuffix(" px")
        self.grow.setToolTip("How far past the selection Recraft repaints")
        layout.addRow("Grow selection", self.grow)
        self.feather = QtWidgets.QSpinBox(self)
        self.feather.setRange(0, 256)
        self.feather.setValue(defaults.feather if saved.feather is None else saved.feather)
        self.feather.setSuffix(" px")
        self.feather.setToolTip("How softly results fade out at the selection's edge; 0: hard")
        layout.addRow("Soft edge", self.feather)
        note = QtWidgets.QLabel(
            "The token is stored in a file only you can read, shared with the recraft command. "
            "RECRAFT_API_TOKEN, when set, wins.",
            self,
        )
        note.setWordWrap(True)
        layout.addRow(note)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Save
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel,
            self,
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addRow(buttons)

    def save(self) -> None:
        settings.save(
            settings.Settings(
                self.token.text().strip() or None,
                self.url.text().strip() or None,
                self.grow.value(),
                self.feather.value(),
            )
        )
        self.accept()
        jobs.runner().refresh_balance()
