"""The styles an artist made, offered by name where a form takes a style id (issue 18: a style
cost 40 credits for an id never seen): created over real HTTP against the local server, kept
in the results library, listed newest first with a label to recognise them by, and usable
as they are listed."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from images import png, raster
from recraft_core import Client, RetryPolicy
from recraft_core.library import Library, open_library, when
from recraft_core.settings import Settings
from recraft_core.workflow import Job, styles
from recraft_core.workflow.history import NothingToInsert, outcome


@pytest.fixture
def client(recraft_server):
    with Client(recraft_server.token, base_url=recraft_server.base_url, retry=RetryPolicy(0)) as c:
        yield c


def test_created_styles_are_offered_newest_first(client, recraft_server, tmp_path):
    library = Library(tmp_path / "library")
    first = client.create_style([png(64, 64)], style="digital_illustration")
    kept = styles.keep(
        library,
        first,
        {"style": "digital_illustration", "model": "recraftv3"},
        sources=["sky", "tree"],
        document="garden.xcf",
        front_end="gimp",
        reference=raster(64, 64),
    )
    second = client.create_style([png(32, 32), png(40, 40)], style="realistic_image")
    styles.keep(library, second, {"style": "realistic_image"}, sources=["a.png", "b.png"])
    assert kept is not None and first.id != second.id

    offered = styles.offered(library)
    assert [s.id for s in offered] == [second.id, first.id]
    newer, older = offered
    assert older.sources == ("sky", "tree") and older.base == "digital_illustration"
    assert older.entry_id == kept and older.time <= newer.time
    assert older.label.startswith("“sky”, “tree” in garden.xcf · ")
    assert "Digital illustration" in older.label and "today " in older.label
    assert newer.label.startswith("“a.png”, “b.png” · ")

    # The id as listed is one Recraft takes: Generate with it sends it.
    client.generate(prompt="a fox", model="recraftv3", style_id=newer.id)
    assert recraft_server.last("/images/generations").fields["style_id"] == second.id
    # Another process (the other editor, the CLI) sees them in the same folder.
    assert [s.id for s in styles.offered(Library(tmp_path / "library"))] == [second.id, first.id]


def test_a_style_is_kept_once_and_costs_like_any_call(client, tmp_path):
    library = Library(tmp_path / "library")
    style = client.create_style([png(64, 64)], style="any")
    assert styles.keep(library, style, {"style": "any"}, front_end="krita") is not None
    assert styles.keep(library, style, {"style": "any"}, front_end="gimp") is None
    assert len(styles.offered(library)) == 1
    assert library.spent() == style.credits == 40
    # In the History views it is an entry with nothing to insert, said in words.
    (entry,) = library.list()
    with pytest.raises(NothingToInsert):
        outcome(entry, (100, 100))


def test_no_library_offers_nothing_and_keeps_nothing(client, tmp_path):
    """Keep no results (the library off): only an id typed in works."""
    off = open_library(Settings(library_off=True, library_folder=str(tmp_path / "off")))
    assert off is None
    style = client.create_style([png(64, 64)], style="any")
    assert styles.keep(off, style, {"style": "any"}) is None
    assert styles.offered(off) == []
    assert not (tmp_path / "off").exists()


def test_labels_say_when_in_local_words():
    now = datetime(2026, 5, 9, 12, 0, tzinfo=timezone.utc)
    today = when("2026-05-09T11:30:00.000000Z", now)
    assert today.startswith("today ")
    assert when("2025-01-02T11:30:00.000000Z", now) in ("2 Jan 2025", "1 Jan 2025")
    many = styles.label("2026-05-09T11:30:00.000000Z", "icon", ["a", "b", "c", "d"], now=now)
    assert many == f"“a”, “b”, “c” and 1 more · Icon · {today}"
    bare = styles.label("2026-05-09T11:30:00.000000Z", "any", (), "x" * 40, now=now)
    assert bare == f"{'x' * 23}… · {today}"
    assert styles.find([], "abc") is None


def test_the_command_keeps_the_style_it_creates(cli, tmp_path, private_library):
    (tmp_path / "dunes.png").write_bytes(png(64, 64))
    done = cli("create-style", "dunes.png", "--style", "realistic_image")
    assert done.returncode == 0, done.stderr
    style_id = done.stdout.strip()
    (saved,) = styles.offered(Library(private_library))
    assert saved.id == style_id and saved.sources == ("dunes.png",), saved
    assert "kept in the history" in done.stderr


def test_a_job_keeps_the_style_with_its_layers_names(recraft_server, tmp_path):
    library = Library(tmp_path / "lib")
    with Client(recraft_server.token, base_url=recraft_server.base_url, retry=RetryPolicy(0)) as c:
        job = Job(c, "create_style", None, {"style": "any"}, references=[raster(64, 64)],
                  front_end="krita", library=library, document="a.kra",
                  reference_names=["sky", "tree"])  # fmt: skip
        job.prepare()
        job.start()
        job.wait(30)
        job.apply()
    assert job.error is None, job.error
    (saved,) = styles.offered(library)
    assert saved.id == job.outcome.style.id and saved.sources == ("sky", "tree")
    assert saved.label.startswith("“sky”, “tree” in a.kra · today ")
    assert job.entry_id == saved.entry_id
