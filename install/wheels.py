"""Pure-Python wheels from PyPI's JSON API, for a Python that has no pip (Debian's and
Ubuntu's, unless python3-pip is installed): what `pip install --target` would put in the
vendor folder, fetched over verified TLS and checked against PyPI's SHA-256 of each file.

RECRAFT_PYPI names another index with the same JSON API (a mirror); https://pypi.org/pypi
otherwise.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from errors import InstallError

PYPI = "https://pypi.org/pypi"
# The distributions `requests` and `certifi` come to, each with the major version it must
# stay below (requests' own bounds on its dependencies); None: any.
DISTRIBUTIONS = {
    "requests": None,
    "urllib3": 3,
    "idna": 4,
    "charset-normalizer": 4,
    "certifi": None,
}
MAX_WHEEL_BYTES = 20 << 20
_CLAUSE = re.compile(r"^(>=|<=|==|!=|~=|>|<)\s*(\d+(?:\.\d+)*)(\.\*)?$")


def fetch(target: Path, python: tuple[int, int], index: str | None = None) -> None:
    """The newest pure-Python wheel of each of DISTRIBUTIONS that runs on `python`, unpacked
    into `target`."""
    index = (index or os.environ.get("RECRAFT_PYPI") or PYPI).rstrip("/")
    target.mkdir(parents=True, exist_ok=True)
    for name, below in DISTRIBUTIONS.items():
        page = f"{index}/{name}/json"
        releases = json.loads(_get(page))["releases"]
        wheel = _newest(name, releases, below, python)
        data = _get(urllib.parse.urljoin(page, wheel["url"]))  # mirrors answer relative URLs
        if hashlib.sha256(data).hexdigest() != wheel["digests"]["sha256"]:
            raise InstallError(f"{wheel['filename']} does not match PyPI's SHA-256: not used")
        _unpack(data, target, wheel["filename"])


def _newest(name: str, releases: dict, below: int | None, python: tuple[int, int]):
    for version in sorted(releases, key=lambda v: _release(v) or (), reverse=True):
        key = _release(version)
        if key is None or (below is not None and key[0] >= below):
            continue
        for file in releases[version]:
            pure = re.search(r"-py3(\.py\d)?-none-any\.whl$|-py2\.py3-none-any\.whl$",
                             file["filename"])  # fmt: skip
            if pure and not file.get("yanked") and runs_on(file.get("requires_python"), python):
                return file
    raise InstallError(
        f"PyPI has no pure-Python wheel of {name} for Python {python[0]}.{python[1]}"
    )


def _release(version: str) -> tuple[int, ...] | None:
    """1.26.20 and 2026.10.19.post1 as numbers; None for a pre-release (2.0.0rc1)."""
    plain = re.fullmatch(r"(\d+(?:\.\d+)*)(\.post\d+)?", version)
    return tuple(map(int, plain.group(1).split("."))) if plain else None


def runs_on(requires: str | None, python: tuple[int, int]) -> bool:
    """Whether a Requires-Python such as ">=3.8, !=3.9.*, <4" admits `python`."""
    for clause in (requires or "").split(","):
        clause = clause.strip()
        if not clause:
            continue
        match = _CLAUSE.match(clause)
        if match is None:
            return False  # a form we do not read: not this wheel
        op, text, star = match.groups()
        wanted = tuple(map(int, text.split(".")))
        have = python + (0,) * max(0, len(wanted) - 2)
        have = have[: len(wanted)] if star else have
        if op == "~=":
            ok = have >= wanted and have[: len(wanted) - 1] == wanted[:-1]
        else:
            ok = {">=": have >= wanted, "<=": have <= wanted, ">": have > wanted,
                  "<": have < wanted, "==": have == wanted, "!=": have != wanted}[op]  # fmt: skip
        if not ok:
            return False
    return True


# Where systems keep their certificate authorities in one file (the ca-certificates package
# on Debian, Ubuntu and Alpine; Fedora, RHEL, openSUSE; macOS and the BSDs).
SYSTEM_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
)


def _get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as answer:
            data = answer.read(MAX_WHEEL_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as e:
        if _certificate_refused(e):
            raise InstallError(certificate_advice(url, e)) from None
        raise InstallError(
            f"could not fetch {url} ({e}): the plug-in's vendored packages need the network "
            "once. Check the connection or proxy and run this again, or install pip (Debian/"
            "Ubuntu: sudo apt install python3-pip)."
        ) from None
    if len(data) > MAX_WHEEL_BYTES:
        raise InstallError(f"{url} is larger than {MAX_WHEEL_BYTES >> 20} MB: not used")
    return data


def _certificate_refused(error: BaseException) -> bool:
    """The server's certificate was not trusted (urllib wraps the ssl error in a URLError)."""
    reason = getattr(error, "reason", None)
    for e in (error, reason):
        if isinstance(e, ssl.SSLCertVerificationError):
            return True
        if isinstance(e, ssl.SSLError) and "CERTIFICATE_VERIFY_FAILED" in str(e):
            return True
    return False


def certificate_advice(url: str, error: BaseException) -> str:
    """What to do when this Python does not trust the index's certificate: point it at the
    system's certificate authorities (installing pip would not change what Python trusts)."""
    reason = getattr(error, "reason", error)
    detail = getattr(reason, "verify_message", "") or str(reason)
    host = urllib.parse.urlsplit(url).hostname or url
    defaults = ssl.get_default_verify_paths()
    looked = defaults.cafile or defaults.openssl_cafile
    found = next((b for b in SYSTEM_BUNDLES if os.path.isfile(b)), None)
    given = os.environ.get("SSL_CERT_FILE", "")
    if given:
        where = f"SSL_CERT_FILE is {given}, which does not vouch for it"
    else:
        where = f"it looked in {looked}" if looked else "it found no certificate authorities"
    lines = [
        f"could not fetch {url}: this Python does not trust the certificate {host} showed "
        f"({detail}; {where}).",
    ]
    commands = (
        "sudo apt install ca-certificates on Debian and Ubuntu, sudo dnf install "
        "ca-certificates on Fedora"
    )
    if found and not same_file(given or looked or "", found):
        lines += [
            "Point Python at your system's certificates and run this again:",
            f"  export SSL_CERT_FILE={found}",
            f"(that file comes with the ca-certificates package: {commands}).",
        ]
    elif found:
        lines.append(
            f"Your system's certificates ({found}) do not vouch for it either. Bring them up to "
            f"date ({commands}) and run this again."
        )
    else:
        lines += [
            "Point Python at your system's certificates: install the ca-certificates package "
            f"({commands}), then run this again with",
            "  export SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt  (where it puts them)",
        ]
    if sys.platform == "darwin":
        lines.append(
            "With the python.org Python on macOS, run its Install Certificates.command instead "
            "(in /Applications/Python 3.x/)."
        )
    lines.append(
        "Behind a proxy that inspects HTTPS, set SSL_CERT_FILE to a file holding the proxy's "
        "certificate (your IT department has it)."
    )
    return "\n".join(lines)


def same_file(a: str, b: str) -> bool:
    return bool(a) and os.path.realpath(a) == os.path.realpath(b)


def _unpack(data: bytes, target: Path, filename: str) -> None:
    """The wheel's packages and .dist-info, as pip --target lays them out (scripts and other
    .data are for an installed Python, not a plug-in's folder)."""
    with zipfile.ZipFile(io.BytesIO(data)) as wheel:
        members = wheel.namelist()
        for member in members:
            path = PurePosixPath(member)
            if path.is_absolute() or ".." in path.parts:
                raise InstallError(f"{filename} holds {member!r}, outside its folder: not used")
        wheel.extractall(target, [m for m in members if not m.split("/")[0].endswith(".data")])
