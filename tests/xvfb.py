"""An X server for the editors' headless runs (Krita's tests, GIMP's screenshots, benches)."""

from __future__ import annotations

import os
import shutil
import subprocess

SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
INSTALL_HINT = "apt-get install -y --no-install-recommends xvfb xauth"


class Xvfb:
    """One X server, as a context manager giving its display (":N"). -displayfd picks a free
    display without races, and -noreset keeps it accepting connections while it would reset
    after each Krita quits."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("Xvfb", path=SYSTEM_PATH) is not None

    def start(self) -> str:
        xvfb = shutil.which("Xvfb", path=SYSTEM_PATH)
        if not xvfb:
            raise FileNotFoundError(f"Xvfb is not installed ({INSTALL_HINT})")
        read_end, write_end = os.pipe()
        self.proc = subprocess.Popen(
            [xvfb, "-displayfd", str(write_end), "-screen", "0", "1600x1000x24", "-noreset"],
            pass_fds=(write_end,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write_end)
        with os.fdopen(read_end) as f:
            number = f.readline().strip()
        if not number:
            self.stop()
            raise RuntimeError("Xvfb did not report a display")
        return f":{number}"

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
