"""Qt for the probe: Krita 6 runs PyQt6, Krita 5 PyQt5. Krita imports its own binding before
any plug-in loads, so follow that one; a machine may have both installed."""

import sys

if "PyQt6.QtCore" in sys.modules:
    from PyQt6 import QtCore, QtGui, QtWidgets
elif "PyQt5.QtCore" in sys.modules:
    from PyQt5 import QtCore, QtGui, QtWidgets
else:
    try:
        from PyQt6 import QtCore, QtGui, QtWidgets
    except ImportError:
        from PyQt5 import QtCore, QtGui, QtWidgets

__all__ = ["QtCore", "QtGui", "QtWidgets"]
