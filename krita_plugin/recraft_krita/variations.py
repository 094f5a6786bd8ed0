"""Variations in Krita: which result of a group of variations shows, and keeping one.

A group of variations is a group layer whose layers are all named "<name> #k of n" (the core's
`variations`); its masks, if the artist added any, are not variations. The actions work on the
active layer when it is such a group, or on the group of the active layer (or of the active
layer's mask). Each returns what to tell the artist, and whether that is an error.

What Krita records (checked on 5.1.5, 5.2.9, 5.3.4 and 6.0.4):

- Flipping is not an undo step. Krita itself records a layer's visibility change (an eye click
  in the Layers docker, Toggle Layer Visibility) as a "Property Changes" entry, one per layer,
  so a flip done that way would be two entries, one Undo would leave two variations showing
  (or none), and browsing would push real edits out of Krita's undo limit. Node.setVisible
  records nothing, but marks nothing for redrawing either: in Krita's sources it only sets the
  property, tells the Layers docker the node changed and drops cached animation frames
  (KisBaseNode::setVisible); only commands mark an area dirty. Every route to a redraw of only
  the group's area found records entries: the eye, Toggle Layer Visibility and the Layers
  docker's model a "Property Changes" one, Node.setBlendingMode (set away and back) two
  "Composition Mode Change". Node.setOpacity, move, setChildNodes, the group's pass-through,
  a channel's visibility and TransparencyMask.setSelection (5.2) record nothing and redraw
  nothing (tried on 5.1.5 and 5.2.9). So the whole image is recomposed, by canvas.redraw
  (setting the background colour the document already has: Krita composes asynchronously and
  draws meanwhile, no undo entry; the document is marked modified, as a flip is a change to
  save). Not refreshProjection: KisImage::refreshGraph, a full refresh the GUI thread waits
  for without handling events on Krita 5.1 (190-280 ms at 6 MP and 9 layers, against a
  longest pause of 16 ms with the redraw).
  Once for a burst of flips (a held shortcut).
- Keeping is two undo steps, "Add Layer" then "Remove Layer": a copy of the visible layer
  (masks, offset, opacity, blend mode and all) goes above the group, then the group goes.
  Krita's Python has no undo grouping and no command that moves a layer out of its group; of
  Krita's own actions, Quick Ungroup moves the selected layers out (removing the group only
  once all of them are out) and Remove Layer only removes, each an entry of its own (Krita
  merges only repeats of one action). The first Undo brings the group back as it was, the
  copy still above it; the second takes the copy away.
"""

from __future__ import annotations

from krita import Krita

from recraft_core.workflow import variations as core

from . import jobs
from .canvas import node_id, redraw
from .qt import QtCore, QtWidgets

# The Krita actions (Tools › Recraft, with the shortcuts users give them): extension.py makes
# them, the docker's buttons trigger them.
NEXT = "recraft_next_variation"
PREVIOUS = "recraft_previous_variation"
KEEP = "recraft_keep_variation"

LOCKED = "“{name}” is locked: unlock it to keep one of its variations."
GROUP_MASKS = (
    "“{name}” has masks of its own, which its kept layer would lose: apply or remove them first."
)


def _is_mask(node) -> bool:
    return node.type().endswith("mask")


def _layers(group) -> list:
    """The group's layers, bottom to top as Krita lists them (its masks left out)."""
    return [child for child in group.childNodes() if not _is_mask(child)]


def is_group(node) -> bool:
    return (
        node is not None
        and node.type() == "grouplayer"
        and core.is_group_of_variations([child.name() for child in _layers(node)])
    )


def group_of(node):
    """The group of variations `node` is, or is in (a mask counts as its layer), or None."""
    while node is not None and _is_mask(node):
        node = node.parentNode()
    if node is None:
        return None
    if is_group(node):
        return node
    parent = node.parentNode()
    return parent if is_group(parent) else None


def active():
    """(document, active layer) of the active window, either None when there is none."""
    document = Krita.instance().activeDocument()
    return document, document.activeNode() if document is not None else None


def active_group():
    """The group of variations of the active layer, or None: for the docker's arrows."""
    return group_of(active()[1])


def in_order(group) -> list:
    """The variations by number (#1 first), those of one number top first."""
    return core.in_order(list(reversed(_layers(group))), lambda node: node.name())


def _found():
    """(document, group, None), or (None, None, what to say) when there is no group."""
    document, node = active()
    if node is None:
        return None, None, core.NO_LAYER
    group = group_of(node)
    if group is None:
        return None, None, core.NOT_A_GROUP.format(name=node.name(), where="")
    return document, group, None


def step(by: int) -> tuple[str, bool]:
    """Show the next (+1) or previous (-1) variation of the active group, wrapping round, and
    hide the others; nothing else changes. (what to say, whether it is an error)."""
    document, group, refused = _found()
    if refused:
        return refused, True
    nodes = in_order(group)
    showing = core.flip([node.visible() for node in nodes], by)
    for node, visible in zip(nodes, showing, strict=True):
        if node.visible() != visible:
            node.setVisible(visible)
    _recompose_soon(document)
    shown = nodes[showing.index(True)]
    k, n = core.number(shown.name())
    return f"Variation {k} of {n}", False


_TO_RECOMPOSE: list = []  # documents whose flips wait for the image to be recomposed


def _recompose_soon(document) -> None:
    """Recompose the image once the flips already queued (a held shortcut) are done: each
    recomposition is of the whole image."""
    if not _TO_RECOMPOSE:
        QtCore.QTimer.singleShot(0, _recompose)
    _TO_RECOMPOSE.append(document)


def _recompose() -> None:
    done = set()
    while _TO_RECOMPOSE:
        document = _TO_RECOMPOSE.pop()
        image = document.rootNode().uniqueId().toString() if document.rootNode() else None
        if image is not None and image not in done:
            done.add(image)
            redraw(document)


def keep() -> tuple[str, bool]:
    """Replace the active group of variations by its visible layer, named without "#k of n",
    in the group's place. Two undo steps (see the module's note)."""
    document, group, refused = _found()
    if refused:
        return refused, True
    if group.locked():
        return LOCKED.format(name=group.name()), True
    if any(_is_mask(child) for child in group.childNodes()):
        return GROUP_MASKS.format(name=group.name()), True
    shown = [node for node in reversed(_layers(group)) if node.visible()]
    if not shown:
        return core.NONE_SHOWS.format(name=group.name()), True
    chosen = shown[0]  # the topmost showing: what the artist sees
    kept = chosen.duplicate()  # a clone: its masks, offset, opacity and blend mode come along
    kept.setName(core.kept(chosen.name()))
    parent = group.parentNode() or document.rootNode()
    parent.addChildNode(kept, group)
    group.remove()
    _carry_image_id(chosen, kept)
    # The artist goes on with the kept layer; Krita makes a layer active only once its node
    # manager has seen it, from the event loop.
    QtCore.QTimer.singleShot(0, lambda: document.setActiveNode(kept))
    return f"Kept “{chosen.name()}” as “{kept.name()}”.", False


def _carry_image_id(old, new) -> None:
    """Explore similar starts from a layer an Explore result went into: the kept copy is a new
    layer (a new unique id) holding the same image."""
    runner = jobs.RUNNER
    if runner is not None and node_id(old) in runner.image_ids:
        runner.image_ids[node_id(new)] = runner.image_ids[node_id(old)]


def _trigger(action_id: str) -> None:
    action = Krita.instance().action(action_id)
    if action is not None:  # None only before Krita's first window made the actions
        action.trigger()


class Buttons(QtWidgets.QWidget):
    """◀ ▶ and Keep, for the docker: shown only while the active layer is in a group of
    variations. Each triggers its Tools › Recraft action, so a click does what the shortcut
    does. Krita tells Python nothing when the active layer changes: a timer looks, cheaply,
    while the docker shows."""

    POLL_MS = 300
    BUTTONS = (
        ("◀", PREVIOUS, "Show the previous variation (Tools › Recraft › Previous variation)"),
        ("▶", NEXT, "Show the next variation (Tools › Recraft › Next variation)"),
        (
            "Keep",
            KEEP,
            "Replace the group by the variation that shows (Tools › Recraft › Keep this variation)",
        ),
    )

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QtWidgets.QLabel("Variation", self))
        self.buttons = {}
        for text, action_id, tip in self.BUTTONS:
            button = QtWidgets.QPushButton(text, self)
            button.setToolTip(tip)
            button.clicked.connect(lambda _=False, a=action_id: _trigger(a))
            row.addWidget(button)
            self.buttons[action_id] = button
        row.addStretch(1)
        self.setVisible(False)
        self._timer = QtCore.QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(self.POLL_MS)

    def refresh(self) -> None:
        parent = self.parentWidget()
        if parent is not None and not parent.isVisible():
            return
        try:
            wanted = active_group() is not None
        except RuntimeError:  # a layer or document deleted under us: look again next time
            return
        if wanted != self.isVisible():
            self.setVisible(wanted)
