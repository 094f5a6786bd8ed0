"""The CLI keeps every paid image result in the results library before it writes the files,
and `recraft history` lists, searches, shows, exports, deletes and sums them. Real HTTP
against the local server; each test has a library of its own (conftest.private_library)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import datetime

import pytest
from PIL import Image

from images import png, svg
from recraft_core.library import Library, records

ID = r"\d{8}-\d{6}-[0-9a-f]{6}"


def clean(r) -> None:
    assert "Traceback" not in r.stderr, r.stderr


def entries(folder) -> list:
    with Library(folder) as lib:
        return lib.list(limit=None)


def kept_id(r) -> str:
    """The id the CLI says it kept the result as."""
    line = next(x for x in r.stderr.splitlines() if x.startswith("kept in the history as "))
    return line.rsplit(" ", 1)[1]


# -- recording -------------------------------------------------------------------------------


def test_generate_is_recorded_as_written(cli, tmp_path, recraft_server, private_library):
    r = cli(
        "generate", "--prompt", "a lighthouse at dusk", "--size", "16:9", "--n", "2", "-o", "out/"
    )
    assert r.returncode == 0, r.stderr
    written = [tmp_path / line for line in r.stdout.split()]
    assert len(written) == 2
    (entry,) = entries(private_library)
    assert kept_id(r) == entry.id
    assert entry.operation == "generate" and entry.front_end == "cli"
    assert entry.params == {"prompt": "a lighthouse at dusk", "size": "16:9", "n": 2}
    assert entry.model  # the operation's default: what the request used
    call = recraft_server.last("/images/generations")
    assert entry.credits == call.credits > 0
    assert [p.read_bytes() for p in entry.result_paths] == [p.read_bytes() for p in written]
    assert [r.image_id for r in entry.results] == [d["image_id"] for d in call.response["data"]]
    record = (entry.folder / "record.json").read_text()
    assert recraft_server.token not in record
    # Small PNG results get thumbnails from the CLI.
    for thumb in entry.thumbnail_paths:
        with Image.open(thumb) as im:
            assert max(im.size) <= 128


def test_remove_background_is_recorded_without_its_input(
    cli, tmp_path, recraft_server, private_library
):
    (tmp_path / "photo.png").write_bytes(png(300, 260))
    r = cli("remove-background", "photo.png")
    assert r.returncode == 0, r.stderr
    (entry,) = entries(private_library)
    assert entry.operation == "remove_background"  # the table's name
    assert entry.params == {}  # the image is a file input: not kept, not even its path
    assert entry.document == "photo.png"
    assert entry.credits == recraft_server.last("/images/removeBackground").credits > 0
    written = tmp_path / "photo.remove-background.png"
    assert entry.result_paths[0].read_bytes() == written.read_bytes()


def test_the_result_is_recorded_before_the_files_are_written(cli, tmp_path, private_library):
    r = cli("generate", "--prompt", "fox", "-o", "fox.png")
    assert r.returncode == 0, r.stderr
    (entry,) = entries(private_library)
    # (record.json is rewritten afterwards, with the thumbnails; the result is not)
    kept = entry.result_paths[0].stat().st_mtime_ns
    assert kept <= (tmp_path / "fox.png").stat().st_mtime_ns
    assert r.stderr.index("kept in the history") < r.stderr.index("wrote fox.png")


def test_a_result_that_cannot_be_written_anywhere_is_in_the_library(
    tmp_path, recraft_server, checkout_env, private_library, run_cli
):
    """Every write fails: the command says the result is kept, and export brings it back."""
    script = (
        "import sys\n"
        "from recraft_core import cli\n"
        "def refuse(image, path):\n"
        "    raise OSError('no room anywhere')\n"
        "cli._write = refuse\n"
        "sys.exit(cli.run(sys.argv[1:]))\n"
    )
    env = checkout_env(RECRAFT_API_URL=recraft_server.base_url, RECRAFT_API_TOKEN="test-token")
    r = subprocess.run(
        [sys.executable, "-c", script, "generate", "--prompt", "fox", "-o", "fox.png"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    clean(r)
    assert r.returncode == 7, r.stderr
    (entry,) = entries(private_library)
    assert "the result is lost" not in r.stderr
    assert f"it is kept in the history: recraft history export {entry.id} -o DIR" in r.stderr
    r = run_cli("history", "export", entry.id, "-o", "back")
    assert r.returncode == 0, r.stderr
    got = (tmp_path / "back" / f"{entry.id}.png").read_bytes()
    assert got == entry.result_paths[0].read_bytes()
    assert got[:4] == b"\x89PNG"


def test_no_history_keeps_nothing(cli, tmp_path, private_library):
    r = cli("generate", "--prompt", "fox", "--no-history")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "generate.png").exists()
    assert "kept in the history" not in r.stderr
    assert entries(private_library) == []


def test_the_library_turned_off_in_settings_keeps_nothing(cli, private_settings, private_library):
    private_settings.parent.mkdir(parents=True)
    private_settings.write_text(json.dumps({"library_off": True}))
    r = cli("generate", "--prompt", "fox")
    assert r.returncode == 0, r.stderr
    assert "warning" not in r.stderr and "kept in the history" not in r.stderr
    assert entries(private_library) == []


def test_a_library_that_cannot_be_opened_is_a_warning(cli, tmp_path):
    """RECRAFT_LIBRARY naming a file: the command succeeds and writes the result."""
    (tmp_path / "not-a-folder").write_text("x")
    r = cli("generate", "--prompt", "fox", "-o", "fox.png", RECRAFT_LIBRARY="not-a-folder")
    clean(r)
    assert r.returncode == 0, r.stderr
    assert "warning: no results library" in r.stderr and "not-a-folder" in r.stderr
    assert (tmp_path / "fox.png").read_bytes()[:4] == b"\x89PNG"


def test_a_library_that_cannot_be_written_is_a_warning(cli, tmp_path, private_library):
    """The library opens, but today's folder is a file: the record fails, the command not."""
    private_library.mkdir()
    (private_library / records.today()).write_text("in the way")
    r = cli("generate", "--prompt", "fox", "-o", "fox.png")
    clean(r)
    assert r.returncode == 0, r.stderr
    assert "warning: the result is not kept in the history" in r.stderr
    assert (tmp_path / "fox.png").read_bytes()[:4] == b"\x89PNG"


# -- recraft history -------------------------------------------------------------------------


def local(*when) -> datetime:
    return datetime(*when).astimezone()


@pytest.fixture
def seeded(private_library, monkeypatch):
    """Four entries on two days, as the editors and the CLI record them: {name: Entry}."""
    moments = iter([local(2026, 5, 8, 10), local(2026, 5, 9, 9), local(2026, 5, 9, 11)])
    moments = iter([*moments, local(2026, 5, 9, 12)])
    monkeypatch.setattr(records, "utc_now", lambda: next(moments))
    hostile = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><script>x</script>'
    hostile += b'<rect width="8" height="8" fill="#123456"/></svg>'
    with Library(private_library) as lib:
        ids = {
            "lighthouse": lib.record(
                "generate", [png(64, 32)], params={"prompt": "a lighthouse at dusk"}, credits=40
            ),
            "cutout": lib.record(
                "remove_background",
                [png(20, 20, "RGBA")],
                front_end="krita",
                document="photo.kra",
                credits=10,
            ),
            "fox": lib.record(
                "generate",
                [png(16, 16), png(16, 16, value=9)],
                params={"prompt": "a red fox in snow", "size": "1:1", "n": 2},
                credits=40,
            ),
            "logo": lib.record("vectorize", [hostile], front_end="gimp", credits=10),
        }
        return {name: lib.get(entry_id) for name, entry_id in ids.items()}


def listed(r) -> list[str]:
    assert r.returncode == 0, r.stderr
    return [line.split()[0] for line in r.stdout.splitlines()]


def test_history_lists_newest_first_one_line_each(run_cli, seeded):
    r = run_cli("history")
    assert listed(r) == [seeded[n].id for n in ("logo", "fox", "cutout", "lighthouse")]
    lines = dict(zip(listed(r), r.stdout.splitlines(), strict=True))
    fox = lines[seeded["fox"].id].split()
    assert fox[1:6] == ["2026-05-09", "11:00", "generate", "40", "cr"]
    assert "a red fox in snow" in lines[seeded["fox"].id]
    assert lines[seeded["fox"].id].endswith("result-1.png,result-2.png")
    assert "remove-background" in lines[seeded["cutout"].id]  # the CLI's name
    assert "[photo.kra]" in lines[seeded["cutout"].id]  # no prompt: its document


def test_history_shortens_long_prompts(run_cli, private_library):
    with Library(private_library) as lib:
        lib.record("generate", [png(8, 8)], params={"prompt": "word " * 40})
    r = run_cli("history")
    assert r.returncode == 0, r.stderr
    assert "word word" in r.stdout and "…" in r.stdout and len(r.stdout) < 160
    assert " ? cr" in r.stdout  # credits unknown


def test_a_prompt_the_console_cannot_show_is_escaped(run_cli, private_library):
    with Library(private_library) as lib:
        lib.record("generate", [png(8, 8)], params={"prompt": "灯台 at dusk"})
    r = run_cli("history", PYTHONIOENCODING="ascii")
    clean(r)
    assert r.returncode == 0 and "\\u706f\\u53f0 at dusk" in r.stdout, r.stderr


@pytest.mark.parametrize(
    "args, names",
    [
        (["--search", "light"], ["lighthouse"]),
        (["--search", "FOX Snow"], ["fox"]),
        (["--search", "dusk fox"], []),
        (["--op", "remove-background"], ["cutout"]),
        (["--op", "remove_background"], ["cutout"]),
        (["--op", "generate"], ["fox", "lighthouse"]),
        (["--day", "2026-05-08"], ["lighthouse"]),
        (["--day", "2026-05-09", "--op", "generate"], ["fox"]),
        (["--limit", "2"], ["logo", "fox"]),
        (["--limit", "0"], ["logo", "fox", "cutout", "lighthouse"]),
    ],
)
def test_history_filters(run_cli, seeded, args, names):
    r = run_cli("history", *args)
    assert listed(r) == [seeded[n].id for n in names]
    if not names:
        assert "no entries match" in r.stderr


def test_history_says_when_the_limit_hides_entries(run_cli, seeded):
    r = run_cli("history", "--limit", "3")
    assert len(listed(r)) == 3
    assert "the newest 3 of 4 entries; --limit 0 for all" in r.stderr


def test_history_json(run_cli, seeded):
    r = run_cli("history", "--json", "--op", "generate")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert [e["id"] for e in got] == [seeded["fox"].id, seeded["lighthouse"].id]
    fox = got[0]
    assert fox["params"] == {"prompt": "a red fox in snow", "size": "1:1", "n": 2}
    assert fox["credits"] == 40 and fox["operation"] == "generate"
    assert fox["result_paths"] == [str(p) for p in seeded["fox"].result_paths]
    assert fox["folder"] == str(seeded["fox"].folder)


def test_an_empty_history(run_cli, private_library):
    r = run_cli("history")
    assert r.returncode == 0 and r.stdout == "", r.stderr
    assert f"no entries in {private_library}" in r.stderr
    r = run_cli("history", "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == []


def test_history_show(run_cli, seeded):
    fox = seeded["fox"]
    r = run_cli("history", "show", fox.id)
    assert r.returncode == 0, r.stderr
    rows = {line[:11].strip(): line[11:].strip() for line in r.stdout.splitlines()}
    assert rows["id"] == fox.id
    assert rows["time"] == "2026-05-09 11:00:00"
    assert rows["operation"] == "generate" and rows["credits"] == "40"
    assert rows["front end"] == "cli"
    assert rows["prompt"] == "a red fox in snow" and rows["size"] == "1:1"
    for i, path in enumerate(fox.result_paths):
        assert rows[f"result {i + 1}"].startswith(f"{path} (png, ")
        assert path.is_file()
    cutout = run_cli("history", "show", seeded["cutout"].id)
    assert "front end  krita" in cutout.stdout and "document   photo.kra" in cutout.stdout


def test_history_show_json(run_cli, seeded):
    logo = seeded["logo"]
    r = run_cli("history", "show", logo.id, "--json")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got == {
        **records.to_json(logo),
        "folder": str(logo.folder),
        "result_paths": [str(logo.result_paths[0])],
    }


def test_history_export(run_cli, tmp_path, seeded):
    fox = seeded["fox"]
    r = run_cli("history", "export", fox.id, "-o", "exported")
    assert r.returncode == 0, r.stderr
    folder = tmp_path / "exported"
    want = [folder / f"{fox.id}-1.png", folder / f"{fox.id}-2.png", folder / f"{fox.id}.json"]
    assert [tmp_path / p for p in r.stdout.split()] == want
    assert [p.read_bytes() for p in want[:2]] == [p.read_bytes() for p in fox.result_paths]
    assert json.loads(want[2].read_text()) == records.to_json(fox)


def test_an_exported_svg_is_sanitised(run_cli, tmp_path, seeded):
    """Neither the library nor what the CLI writes out of it keeps a script."""
    logo = seeded["logo"]
    assert b"<script>" not in logo.result_paths[0].read_bytes()
    r = run_cli("history", "export", logo.id, "-o", "out")
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "out" / f"{logo.id}.svg").read_text()
    assert "script" not in text and 'fill="#123456"' in text


def test_history_delete(run_cli, seeded):
    gone = seeded["cutout"]
    r = run_cli("history", "delete", gone.id)
    assert r.returncode == 0 and f"deleted {gone.id}" in r.stderr, r.stderr
    assert not gone.folder.exists()
    assert listed(run_cli("history")) == [seeded[n].id for n in ("logo", "fox", "lighthouse")]


def test_history_costs(run_cli, seeded):
    r = run_cli("history", "--costs")
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines()]
    assert rows == [
        ["day", "operation", "entries", "credits"],
        ["2026-05-09", "generate", "1", "40"],
        ["2026-05-09", "remove-background", "1", "10"],
        ["2026-05-09", "vectorize", "1", "10"],
        ["2026-05-09", "(all)", "3", "60"],
        ["2026-05-08", "generate", "1", "40"],
        ["2026-05-08", "(all)", "1", "40"],
        ["total", "4", "100"],
    ]


def test_history_costs_json_and_filters(run_cli, seeded):
    r = run_cli("history", "--costs", "--json", "--op", "generate")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {
        "rows": [
            {"day": "2026-05-09", "operation": "generate", "entries": 1, "credits": 40},
            {"day": "2026-05-08", "operation": "generate", "entries": 1, "credits": 40},
        ],
        "days": [
            {"day": "2026-05-09", "entries": 1, "credits": 40},
            {"day": "2026-05-08", "entries": 1, "credits": 40},
        ],
        "total": {"entries": 2, "credits": 80},
    }
    r = run_cli("history", "--costs", "--day", "2026-05-08")
    assert r.stdout.splitlines()[-1].split() == ["total", "1", "40"]


def test_history_of_what_the_cli_recorded(cli, run_cli, tmp_path):
    """End to end: generate, then find it, show it and sum it."""
    assert cli("generate", "--prompt", "a quiet harbour", "-o", "h.png").returncode == 0
    r = run_cli("history", "--search", "harbour", "--day", "today")
    (entry_id,) = listed(r)
    shown = run_cli("history", "show", entry_id, "--json")
    path = json.loads(shown.stdout)["result_paths"][0]
    assert open(path, "rb").read() == (tmp_path / "h.png").read_bytes()  # noqa: SIM115
    costs = run_cli("history", "--costs", "--json")
    credits = json.loads(shown.stdout)["credits"]
    assert json.loads(costs.stdout)["total"] == {"entries": 1, "credits": credits}


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["show", "nope"], 3, "'nope' is not an entry id"),
        (["show", "../../etc/passwd"], 3, "is not an entry id"),
        (["export", "20200101-12", "-o", "x"], 3, "is not an entry id"),
        (["show", "20200101-000000-abcdef"], 3, "there is no entry 20200101-000000-abcdef"),
        (["export", "20200101-000000-abcdef", "-o", "x"], 3, "there is no entry"),
        (["delete", "20200101-000000-abcdef"], 3, "there is no entry"),
        (["show"], 2, "the following arguments are required: ID"),
        (["export", "20200101-000000-abcdef"], 2, "-o/--output"),
        (["--op", "nope"], 2, "'nope' is no operation; one of: generate"),
        (["--op", "user"], 2, "'user' is no operation"),
        (["--day", "2026-13-01"], 2, "is not a day as YYYY-MM-DD"),
        (["--limit", "-1"], 2, "is not a number of entries"),
        (["--costs", "--search", "fox"], 2, "--search does not apply to --costs"),
        (["--costs", "show", "20200101-000000-abcdef"], 2, "--costs does not go with show"),
        (["undo"], 2, "invalid choice: 'undo'"),
    ],
)
def test_bad_history_commands_are_messages(run_cli, seeded, args, code, words):
    r = run_cli("history", *args)
    clean(r)
    assert r.returncode == code and words in r.stderr, r.stderr
    assert r.stdout == ""


def test_deleting_checks_every_id_first(run_cli, seeded):
    r = run_cli("history", "delete", seeded["fox"].id, "20200101-000000-abcdef")
    assert r.returncode == 3, r.stderr
    assert seeded["fox"].folder.exists()


def test_history_with_a_library_that_cannot_be_opened(run_cli, tmp_path):
    (tmp_path / "not-a-folder").write_text("x")
    r = run_cli("history", RECRAFT_LIBRARY="not-a-folder")
    clean(r)
    assert r.returncode == 1 and "cannot make the library folder" in r.stderr, r.stderr


def test_history_is_in_the_help(run_cli):
    r = run_cli("--help")
    assert r.returncode == 0 and "history " in r.stdout
    r = run_cli("history", "--help")
    assert r.returncode == 0
    assert "usage: recraft history [options] [show ID | export ID -o DIR" in r.stdout
    r = run_cli("generate", "--help")
    assert "--no-history" in r.stdout


def test_history_output_piped_into_head(checkout_env, tmp_path, seeded):
    """A reader that stops early is no error, and no traceback."""
    r = subprocess.run(
        f"{sys.executable} -m recraft_core history | head -n 1",
        shell=True,
        cwd=tmp_path,
        env=checkout_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.stdout.startswith(seeded["logo"].id)
    assert r.stderr == ""


def test_thumbnails_are_left_out_for_large_results(tmp_path, monkeypatch, private_library):
    """Past THUMBNAIL_MAX_PIXELS the CLI does not decode (an editor's history view will)."""
    from recraft_core import cli
    from recraft_core.api.results import Image as Result
    from recraft_core.api.results import ImageResult

    big, small = png(80, 80), png(40, 40)
    monkeypatch.setattr(cli, "THUMBNAIL_MAX_PIXELS", 50 * 50)
    result = ImageResult([Result(big, "image/png"), Result(small, "image/png")])
    with Library(private_library) as lib:
        entry_id = lib.record("generate", result.images)
        cli._add_thumbnails(lib, entry_id, result)
        entry = lib.get(entry_id)
    first, second = entry.thumbnail_paths
    assert first is None
    with Image.open(io.BytesIO(second.read_bytes())) as im:
        assert im.size == (40, 40)


def test_svg_results_have_no_thumbnail_and_are_recorded(cli, tmp_path, private_library):
    (tmp_path / "logo.svg").write_bytes(svg(512, 512))
    r = cli("remove-background", "logo.svg", "-o", "cut.svg")
    assert r.returncode == 0, r.stderr
    (entry,) = entries(private_library)
    assert entry.results[0].format == "svg" and entry.thumbnail_paths == [None]
