#!/usr/bin/env python3
"""Install the Recraft plug-ins into the editors on this machine: python3 install/install.py

Krita and GIMP 3: every plug-in folder found of either editor, or only the folders named with
--krita DIR and --gimp DIR.

Standard library only, so it runs with whatever Python 3.10+ the user has. The plug-ins it
installs are self-contained: each carries recraft_core and pure-Python requests, urllib3, idna,
charset_normalizer and certifi in its vendor/ folder, built once into install/build/ (with pip
where there is one, else from PyPI's pure-Python wheels; see wheels.py).
Run with --help for the options. Exit codes: 0 done, 2 a problem the user can fix (the message
says what), 1 a bug in the installer, 130 interrupted.
"""

import os
import sys

# The user's python3 may be older than the project's floor: say so rather than fail oddly.
if sys.version_info < (3, 10):  # noqa: UP036
    found = sys.version.split()[0]
    sys.stderr.write(f"The installer needs Python 3.10 or newer; this is {found}.\n")
    sys.exit(2)

import argparse
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
# `python -I` and `-P` leave the script's folder off sys.path; its modules live there.
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import archive  # noqa: E402
import kconfig  # noqa: E402
import payload  # noqa: E402
import placement  # noqa: E402
import vendor as vendoring  # noqa: E402
from editors import EDITORS, Editor, Host, Place, same_folder  # noqa: E402
from errors import InstallError  # noqa: E402

CHECKOUT = HERE.parent
VENDOR_CACHE = HERE / "build" / "vendor"

_WOULD = {
    "created": "would create",
    "added": "would add",
    "replaced": "would replace",
    "wrote": "would write",
    "linked": "would link",
    "removed": "would remove",
    "set": "would set",
    "left": "would leave",
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="install.py",
        description=(
            "Install the Recraft plug-ins into every Krita and GIMP 3 plug-in folder found on "
            "this machine (or only the folders named), each with everything it needs inside it, "
            "and enable the Krita one."
        ),
        epilog=(
            "An install or --uninstall replaces or removes only what the installer put there, "
            "as listed in the INSTALLED.json it writes into the plug-in's folder (or an earlier "
            "copy of the plug-in it recognises beyond doubt); anything else under the plug-in's "
            "names is left as it is, and the output names the folder. "
            "Exit codes: 0 done, 2 a problem you can fix (the message says what), 1 a bug."
        ),
    )
    for editor in EDITORS:
        outside = [
            f"Only for a DIR named {e.only_in} does the plug-in's "
            f"{e.target.rsplit('/', 1)[-1]} (if it has one) go outside it, into "
            f"{e.target.rsplit('/', 1)[0]}/, where {editor.title} reads it. "
            for e in editor.extras
            if e.only_in
        ]
        parser.add_argument(
            f"--{editor.key}",
            metavar="DIR",
            action="append",
            type=Path,
            default=[],
            help=(
                f"{editor.folder_help} to install into, created if missing; repeatable. "
                f"{''.join(outside)}"
                "Given any --krita or --gimp, only the folders named are used; without: every "
                f"{editor.title} folder found."
            ),
        )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--uninstall",
        action="store_true",
        help="remove what an install put there, and nothing else, from every folder found or "
        "named (kritarc is left alone): only what the installer's INSTALLED.json lists; "
        "anything else under the plug-in's names is left as it is, and the output names it",
    )
    mode.add_argument(
        "--zip",
        metavar="OUT_DIR",
        type=Path,
        help="write recraft-krita-VERSION.zip (for Krita's Import Python Plugin from File) and "
        "recraft-gimp-VERSION.zip (to unpack into a GIMP plug-ins folder); installs nothing",
    )
    mode.add_argument(
        "--link",
        action="store_true",
        help="for development: symlink the plug-ins' files and recraft_core to this checkout",
    )
    parser.add_argument(
        "--no-enable", action="store_true", help="do not enable the plug-in in kritarc"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would be done; change nothing"
    )
    parser.add_argument(
        "--vendor",
        metavar="DIR",
        type=Path,
        help="an already-built folder of the vendored packages, instead of install/build/vendor",
    )
    parser.add_argument(
        "--rebuild-vendor",
        action="store_true",
        help="build install/build/vendor again (newer requests and certificates)",
    )
    args = parser.parse_args(argv)
    named = [f"--{e.key}" for e in EDITORS if getattr(args, e.key)]
    if args.zip and named:
        parser.error(f"--zip installs nothing: drop {' '.join(named)}")
    if args.uninstall and (args.vendor or args.rebuild_vendor):
        parser.error("--uninstall takes no --vendor or --rebuild-vendor")
    if args.vendor and args.rebuild_vendor:
        parser.error("--vendor names a folder already built: drop --rebuild-vendor")
    return args


class Report:
    """What the installer did, printed as it goes."""

    def __init__(self, dry_run: bool) -> None:
        self.dry_run = dry_run

    def say(self, text: str = "") -> None:
        print(text, flush=True)

    def step(self, text: str) -> None:
        if self.dry_run:
            verb, _, rest = text.partition(" ")
            text = f"{_WOULD[verb]} {rest}" if verb in _WOULD else text
        self.say(f"  {text}")


def named_folders(args: argparse.Namespace) -> dict[str, list[Path]]:
    return {e.key: getattr(args, e.key) for e in EDITORS if getattr(args, e.key)}


def _unique(places: list[Place]) -> list[Place]:
    kept: list[Place] = []
    for place in places:
        if not any(same_folder(place.folder, k.folder) for k in kept):
            kept.append(place)
    return kept


def install_places(editor: Editor, named: list[Path], host: Host) -> list[Place]:
    """The folders named on the command line, as Places of this editor."""
    known = [p for p in editor.places(host) if not p.shadowed]
    default = next((p for p in known if p.default), None)
    places = []
    for folder in named:
        folder = folder.expanduser().absolute()
        match = next((p for p in known if same_folder(p.folder, folder)), None)
        # A folder of our own choosing is still loaded by the Krita that reads the
        # platform's kritarc (for example a resource folder set in Krita's settings).
        config = (match or default).config if (match or default) else None
        places.append(Place(folder, match.label if match else editor.title, config))
    return _unique(places)


NO_EDITOR = """\
No Krita and no GIMP 3 was found on this machine: no plug-in folder, no krita program.
  - Install Krita (5.1 or later) or GIMP 3, start it once, then run this again.
  - Or name the folder yourself: --krita DIR (a pykrita folder) or --gimp DIR (a plug-ins
    folder).
  - To try Recraft without an editor, the command-line tool and the local Recraft server
    need no account: README.md, "Try it without an account", shows how."""


def plan_install(args: argparse.Namespace, host: Host) -> list[tuple[Editor, list[Place], str]]:
    """Each editor with the folders it gets (maybe none) and a sentence when that needs saying.

    Folders named on the command line are the only ones used. Otherwise every editor gets the
    folders found for it; when no editor's folder is found at all, an installed editor with a
    standard folder it can create (a Krita never started yet) gets that one.
    """
    named = named_folders(args)
    if named:
        return [(e, install_places(e, named[e.key], host), "") for e in EDITORS if e.key in named]
    found = {
        e.key: _unique([p for p in e.places(host) if p.found() and not p.shadowed]) for e in EDITORS
    }
    anything = any(found.values())
    plan = []
    for editor in EDITORS:
        if found[editor.key]:
            plan.append((editor, found[editor.key], ""))
            continue
        default = next((p for p in editor.places(host) if p.default and not p.shadowed), None)
        if anything or default is None or not editor.programs(host):
            plan.append((editor, [], editor.missing))
            continue
        note = (
            f"No {editor.title} plug-in folder was found, so the standard one is used (and "
            f"created). If your {editor.title} keeps its resources elsewhere, run this again "
            f"with --{editor.key} DIR."
        )
        plan.append((editor, [default], note))
    if not any(places for _, places, _ in plan):
        # No editor at all: run_install says so once, for all of them.
        return [(editor, [], "") for editor, _, _ in plan]
    return plan


def prepare_vendor(args: argparse.Namespace, report: Report) -> vendoring.Vendor | None:
    """The checked vendor folder; None for a dry run that would build it."""
    given = args.vendor.expanduser().absolute() if args.vendor else None
    how, folder = vendoring.plan(VENDOR_CACHE, given, args.rebuild_vendor)
    pip = vendoring.find_pip() if how == "build" else None
    if args.dry_run and how == "build":
        report.say(f"Vendored packages: would build {folder} with")
        if pip is None:
            report.say("  the pure-Python wheels of requests and certifi from PyPI (no pip here)")
        else:
            report.say(f"  {vendoring.shell_line([*pip, *vendoring.pip_command(folder)])}")
        return None
    if how == "build":
        tool = "pip" if pip is not None else "PyPI's wheels (no pip here)"
        report.say(f"Vendored packages: building {folder} with {tool} (once; it needs the network)")
    vendor = vendoring.prepare(VENDOR_CACHE, given, args.rebuild_vendor)
    listed = ", ".join(f"{k} {v}" for k, v in sorted(vendor.versions.items()))
    verb = {"built": "built", "reused": "reusing", "given": "using"}[vendor.how]
    report.say(f"Vendored packages: {verb} {vendor.folder} ({listed})")
    return vendor


def enable(editor: Editor, config: Path, report: Report, dry_run: bool) -> None:
    assert editor.switch is not None
    try:
        data = config.read_bytes()
    except FileNotFoundError:
        data = b""
    new, what = kconfig.set_entry(data, editor.switch.section, editor.switch.key, "true")
    if new != data and not dry_run:
        kconfig.write_atomically(config, new)
    report.step(f"{what} in {config}")


def run_install(args: argparse.Namespace, report: Report, host: Host) -> None:
    plan = plan_install(args, host)
    # Every plug-in to install is checked in the checkout before anything changes.
    sources = {e.key: payload.Source.find(e, CHECKOUT) for e, places, _ in plan if places}
    if sources:
        version = next(iter(sources.values())).version
        report.say(f"Recraft plug-ins {version} from {CHECKOUT}")
    vendor = prepare_vendor(args, report) if sources else None
    steps: list[tuple[Editor, list[str]]] = []
    failed: list[str] = []
    for editor, places, note in plan:
        if note:
            report.say()
            report.say(note)
        if not places:
            continue
        source = sources[editor.key]
        enabled: list[Path] = []
        for place in places:
            report.say()
            where = f" ({place.note})" if place.note else ""
            report.say(f"{place.label}: {place.folder}{where}")
            try:
                for line in placement.install_into(place, source, vendor, args.link, args.dry_run):
                    report.step(line)
                if editor.switch and place.config and not args.no_enable:
                    if any(same_folder(place.config, c) for c in enabled):
                        report.step(f"already enabled in {place.config}")
                    else:
                        enable(editor, place.config, report, args.dry_run)
                        enabled.append(place.config)
            except (OSError, InstallError) as e:
                # The other folders still get their copy; the exit code says one failed.
                report.step(f"FAILED: {e}")
                failed.append(str(place.folder))
        todo = [editor.enable_by_hand] if args.no_enable and editor.switch else []
        steps.append((editor, [*todo, *editor.next_steps]))
    report.say()
    if failed:
        raise InstallError(
            f"Could not install into {', '.join(failed)} (see above). Fix that and run this "
            "again; the folders that worked are fine as they are."
        )
    if args.dry_run:
        report.say("Dry run: nothing was changed.")
        return
    if not steps:
        report.say("Nothing was installed.")
        if not any(places or note for _, places, note in plan):
            report.say()
            report.say(NO_EDITOR)
        return
    report.say("Done.")
    for editor, texts in steps:
        report.say(f"Next, for {editor.title}:")
        for number, text in enumerate(texts, 1):
            report.say(f"  {number}. {text}")


def _checkout_source(editor: Editor) -> payload.Source | None:
    """The plug-in in this checkout, to recognise an earlier install of it; None if absent."""
    try:
        return payload.Source.find(editor, CHECKOUT)
    except (OSError, InstallError):
        return None


def run_uninstall(args: argparse.Namespace, report: Report, host: Host) -> None:
    named = named_folders(args)
    editors = [e for e in EDITORS if e.key in named] if named else list(EDITORS)
    touched: list[str] = []
    refused: list[str] = []
    for editor in editors:
        if editor.key in named:
            places = [Place(f.expanduser().absolute(), editor.title) for f in named[editor.key]]
        else:
            places = _unique(editor.places(host))
        source = _checkout_source(editor)
        for place in places:
            try:
                found = placement.examine(place.folder, editor, source, uninstall=True)
            except OSError as e:
                raise InstallError(f"Could not look into {place.folder}: {e}") from e
            if found.kind == "absent":
                continue
            report.say(f"{place.label}: {place.folder}")
            if found.kind == "foreign":
                report.step(f"NOT REMOVED: {found.problem}")
                refused.append(str(place.folder))
                continue
            if editor.title not in touched:
                touched.append(editor.title)
            try:
                for line in placement.uninstall_from(place, editor, found, source, args.dry_run):
                    report.step(line)
            except OSError as e:
                raise InstallError(f"Could not remove the plug-in from {place.folder}: {e}") from e
            if editor.switch and place.config:
                report.step(
                    f"left {place.config} as it was: {editor.switch.key}=true stays, and "
                    f"{editor.title} ignores it while the plug-in is absent"
                )
    if touched or refused:
        report.say()
    if not touched and not refused:
        report.say("The Recraft plug-in is not installed in any folder looked at; nothing to do.")
    elif args.dry_run:
        report.say("Dry run: nothing was changed.")
    elif touched:
        report.say(
            f"Done. Restart {' and '.join(touched)}. Your Recraft token and settings were kept."
        )
    if refused:
        raise InstallError(
            f"Nothing was removed from {', '.join(refused)}: what is there was not put there "
            "by this installer (see above)."
        )


def run_zip(args: argparse.Namespace, report: Report) -> None:
    sources = [payload.Source.find(e, CHECKOUT) for e in EDITORS if e.import_zip]
    vendor = prepare_vendor(args, report)
    out_dir = args.zip.expanduser().absolute()
    for source in sources:
        if vendor is None:
            report.say(f"would write {out_dir / archive.zip_name(source)}")
            continue
        out = archive.build_zip(source, vendor, out_dir)
        report.say(f"Wrote {out} ({out.stat().st_size / 1e6:.1f} MB).")
        report.say(str(source.editor.import_zip))


def main(argv: list[str] | None = None) -> int:
    # A console that cannot show "›" must not turn a finished install into a crash.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    report = Report(args.dry_run)
    if args.dry_run:
        report.say("Dry run: nothing will be changed.")
    try:
        if args.uninstall:
            run_uninstall(args, report, Host.current())
        elif args.zip:
            run_zip(args, report)
        else:
            run_install(args, report, Host.current())
    except InstallError as e:
        print(f"\nProblem: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the output went to a pager or `head` that quit early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted. Nothing is left half-installed; run it again.", file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        print(
            "\nThis is a bug in the installer. Please report it with the lines above.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
