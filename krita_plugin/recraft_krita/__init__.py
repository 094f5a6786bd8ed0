"""Recraft for Krita: a docker and Tools › Recraft actions over recraft_core.

The installed copy carries recraft_core and a pure-Python requests stack in `vendor/`, put
first on sys.path so that the plug-in never depends on what Krita's Python happens to have.
"""

import logging
import os
import sys

_VENDOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vendor")
if os.path.isdir(_VENDOR) and _VENDOR not in sys.path:
    sys.path.insert(0, _VENDOR)

log = logging.getLogger("recraft_krita")


def _register() -> None:
    from krita import DockWidgetFactory, DockWidgetFactoryBase, Krita

    from .docker import DOCKER_ID, RecraftDocker, place_on_first_start
    from .extension import RecraftExtension

    krita = Krita.instance()
    krita.addExtension(RecraftExtension(krita))
    krita.addDockWidgetFactory(
        DockWidgetFactory(DOCKER_ID, DockWidgetFactoryBase.DockPosition.DockRight, RecraftDocker)
    )
    krita.notifier().windowCreated.connect(place_on_first_start)


try:
    _register()
except ImportError as e:  # outside Krita, or recraft_core missing from vendor/
    if "krita" not in str(e):
        log.error("Recraft plug-in could not load: %s (reinstall it with install/install.py)", e)
        print(f"Recraft plug-in could not load: {e}", file=sys.stderr)
