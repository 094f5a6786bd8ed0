"""The zips for installing without this installer.

Krita's Tools › Scripts › Import Python Plugin from File finds `*.desktop` files, reads
X-KDE-Library from each, and takes the folder of that name only if the archive lists the folder
itself ("recraft_krita/") and its __init__.py; an `<name>.action` file anywhere goes to the
resource folder's actions/. zipfile writes no folder entries on its own, so each one is added
by hand.

GIMP has no importer: its zip holds the `recraft/` folder, to unpack into a plug-ins folder.
recraft.py keeps its run bit in the entry's Unix mode, which unzip and most archivers restore.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

import payload
import vendor as vendoring

# Fixed, so that building twice gives the same bytes (but for GIMP's executable: see _add);
# Krita's importer does not keep times.
_TIMESTAMP = (2020, 1, 1, 0, 0, 0)


def zip_name(source: payload.Source) -> str:
    return f"recraft-{source.editor.key}-{source.version}.zip"


def build_zip(source: payload.Source, vendor: vendoring.Vendor, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / zip_name(source)
    stage = Path(tempfile.mkdtemp(prefix="recraft-zip-"))
    try:
        payload.build_package(source, vendor, stage / source.editor.package, link=False)
        members = [(stage / source.editor.package, source.editor.package)]
        members += [(path, Path(extra.target).name) for extra, path in source.extras]
        package = source.editor.package
        executables = {f"{package}/{name}" for name in source.editor.executables}
        fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{out.name}-", suffix=".tmp")
        os.close(fd)
        try:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
                for path, name in members:
                    _add(zf, path, name, executables)
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return out


def _now() -> tuple[int, int, int, int, int, int]:
    t = time.localtime()
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def _add(zf: zipfile.ZipFile, path: Path, name: str, executables: set[str]) -> None:
    if path.is_dir():
        info = zipfile.ZipInfo(name + "/", _TIMESTAMP)
        # Unix, also when built on Windows (zipfile's default there is 0, MS-DOS): unzip
        # restores the modes below only from a Unix entry.
        info.create_system = 3
        info.external_attr = (0o40755 << 16) | 0x10  # a directory, for unzip and Windows
        zf.writestr(info, b"")
        for child in sorted(path.iterdir()):
            _add(zf, child, f"{name}/{child.name}", executables)
        return
    # GIMP asks a plug-in for its procedures again only when the executable's modification
    # time changed (pluginrc): unpacked over an older copy, it must not be the fixed one.
    info = zipfile.ZipInfo(name, _now() if name in executables else _TIMESTAMP)
    executable = name in executables or os.access(path, os.X_OK)
    info.create_system = 3
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, path.read_bytes())
