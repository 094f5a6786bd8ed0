"""Qt for both Krita 5 (PyQt5) and Krita 6 (PyQt6): follow the binding Krita itself loaded.

Import Qt only through here, and write enums fully scoped (Qt.AlignmentFlag.AlignLeft), which
both bindings accept; call exec(), not exec_().
"""

import sys

if "PyQt6.QtCore" in sys.modules:
    from PyQt6 import QtCore, QtGui, QtWidgets
elif "PyQt5.QtCore" in sys.modules:
    from PyQt5 import QtCore, QtGui, QtWidgets
else:  # outside Krita (tests of this module): whichever is installed
    try:
        from PyQt6 import QtCore, QtGui, QtWidgets
    except ImportError:
        from PyQt5 import QtCore, QtGui, QtWidgets

Qt = QtCore.Qt
QImage = QtGui.QImage

__all__ = ["QImage", "Qt", "QtCore", "QtGui", "QtWidgets"]
