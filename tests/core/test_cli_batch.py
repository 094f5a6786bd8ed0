"""`recraft OPERATION a.png b.png ... -o out/ --jobs N`: a batch. Real HTTP against the local
server; what it received (when, how many at once, what it charged) and the files written are
what is checked."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import time

import pytest

from images import png
from recraft_core import batch
from recraft_core.library import Library

OP = "/v1/images/removeBackground"


def clean(r) -> None:
    assert "Traceback" not in r.stderr, r.stderr


def shots(folder, count: int, prefix: str = "shot") -> list[str]:
    """`count` distinct small photos in `folder`; their names, relative to the tests' cwd."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(count):
        path = folder / f"{prefix}{i:02d}.png"
        path.write_bytes(png(300, 260, value=40 + i))
        names.append(str(path.relative_to(folder.parent)) if folder.name else path.name)
    return names


def sent(server, path: str = OP) -> list:
    return [r for r in server.requests if r.path == path]


def most_at_once(records) -> int:
    """The most requests the server was working on at the same moment."""
    moments = sorted(
        [(r.started, 1) for r in records] + [(r.started + r.duration, -1) for r in records]
    )
    now = most = 0
    for _, step in moments:
        now += step
        most = max(most, now)
    return most


def lines(text: str, state: str) -> list[str]:
    return [line for line in text.splitlines() if line.split(" ", 1)[0] == state]


def popen(recraft_server, checkout_env, cwd, *args):
    env = checkout_env(
        RECRAFT_API_URL=recraft_server.base_url, RECRAFT_API_TOKEN=recraft_server.token
    )
    return subprocess.Popen(
        [sys.executable, "-m", "recraft_core", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


# -- the batch and its rerun -------------------------------------------------------------------


def test_twenty_files_four_at_a_time_then_a_rerun_sends_nothing(
    cli, tmp_path, recraft_server, private_library
):
    names = shots(tmp_path / "shots", 20)
    recraft_server.fault("delay", seconds=0.5, times=40, path=OP)
    credits = recraft_server.credits
    started = time.monotonic()
    r = cli("remove-background", *names, "-o", "out/", "--jobs", "4")
    took = time.monotonic() - started
    clean(r)
    assert r.returncode == 0, r.stderr
    calls = sent(recraft_server)
    assert len(calls) == 20 and all(c.status == 200 for c in calls)
    assert most_at_once(calls) == 4  # as many as --jobs, never more
    assert took < 20 * 0.5 * 0.75  # side by side, not one after another
    spent = credits - recraft_server.credits
    assert spent == sum(c.credits for c in calls) > 0
    for i in range(20):
        assert (tmp_path / "out" / f"shot{i:02d}.png").read_bytes()[:4] == b"\x89PNG"
    assert len(lines(r.stdout, "done")) == 20 and "\r" not in r.stdout  # not a terminal
    assert "recraft remove-background: 20 done; " in r.stderr
    with Library(private_library) as library:
        kept = library.list(limit=None)
    assert sorted(e.document for e in kept) == [f"shot{i:02d}.png" for i in range(20)]
    assert {e.front_end for e in kept} == {"cli"} and sum(e.credits for e in kept) == spent
    assert all(e.thumbnail_paths[0] is not None for e in kept)  # made before it exits

    r = cli("remove-background", *names, "-o", "out/", "--jobs", "4")
    clean(r)
    assert r.returncode == 0, r.stderr
    assert len(sent(recraft_server)) == 20  # nothing sent the second time
    assert recraft_server.credits == credits - spent  # nothing charged
    assert len(lines(r.stdout, "skipped")) == 20
    assert "0 done, 20 skipped" in r.stderr


def test_force_redoes_and_a_half_written_file_does_not_count(cli, tmp_path, recraft_server):
    names = shots(tmp_path / "shots", 3)
    out = tmp_path / "out"
    out.mkdir()
    (out / "shot00.png").write_bytes(b"old")
    (out / ".shot01.png.x1y2.part").write_bytes(b"\x89PNG half")  # what a killed run leaves
    r = cli("remove-background", *names, "-o", "out")
    assert r.returncode == 0, r.stderr
    assert len(sent(recraft_server)) == 2  # shot01 and shot02
    assert (out / "shot00.png").read_bytes() == b"old"
    r = cli("remove-background", *names, "-o", "out", "--force")
    assert r.returncode == 0, r.stderr
    assert len(sent(recraft_server)) == 5
    assert (out / "shot00.png").read_bytes()[:4] == b"\x89PNG"


def test_a_write_is_whole_or_not_at_all(tmp_path, monkeypatch):
    target = tmp_path / "a.png"
    target.write_bytes(b"before")

    def fail(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError):
        batch.write_atomic(target, b"\x89PNG" + b"x" * 100_000)
    assert target.read_bytes() == b"before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]  # no temporary file left
    monkeypatch.undo()
    batch.write_atomic(tmp_path / "b.png", b"data")
    (tmp_path / "c.png").write_bytes(b"data")  # as a single run writes
    assert (tmp_path / "b.png").stat().st_mode == (tmp_path / "c.png").stat().st_mode


def test_a_failed_file_leaves_the_rest_done_and_the_exit_code_says_so(
    cli, tmp_path, recraft_server
):
    names = shots(tmp_path / "shots", 6)
    recraft_server.fault("status", status=400, times=1, path=OP, message="this one is bad")
    r = cli("remove-background", *names, "-o", "out/", "--jobs", "3")
    clean(r)
    assert r.returncode == 8, r.stderr
    assert [c.status for c in sent(recraft_server)].count(400) == 1
    (line,) = lines(r.stdout, "failed")
    bad = line.split()[1].rstrip(":")
    assert "this one is bad" in line
    assert "5 done, 1 failed; " in r.stderr and f"{bad}: the API refused: " in r.stderr
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(written) == 5 and os.path.basename(bad) not in written
    # Run again: only the failed one is sent.
    r = cli("remove-background", *names, "-o", "out/", "--jobs", "3")
    assert r.returncode == 0, r.stderr
    assert len(sent(recraft_server)) == 7
    assert "1 done, 5 skipped" in r.stderr


def test_a_refused_token_stops_the_batch(cli, tmp_path, recraft_server):
    names = shots(tmp_path / "shots", 8)
    r = cli("remove-background", *names, "-o", "out/", "--jobs", "2", RECRAFT_API_TOKEN="wrong")
    clean(r)
    assert r.returncode == 8
    assert len(sent(recraft_server)) <= 2  # those in flight when the first answer came
    assert "not started" in r.stderr and "stopped early" in r.stderr
    assert "wrong" not in r.stdout + r.stderr


# -- 429 -------------------------------------------------------------------------------------


def test_a_429_holds_back_every_worker_for_its_retry_after(cli, tmp_path, recraft_server):
    names = shots(tmp_path / "shots", 8)
    recraft_server.fault("status", status=429, retry_after=2, times=1, path=OP)
    recraft_server.fault("delay", seconds=0.6, times=20, path=OP)
    r = cli("remove-background", *names, "-o", "out/", "--jobs", "4")
    clean(r)
    assert r.returncode == 0, r.stderr
    assert len(list((tmp_path / "out").iterdir())) == 8
    api = [c for c in recraft_server.requests if c.path.startswith("/v1/")]
    (limited,) = [c for c in api if c.status == 429]
    answered = limited.started + limited.duration
    # Requests already on their way when the 429 was answered may land a moment after it;
    # without the shared wait the three others send their next at about 0.6 s.
    during = [c for c in api if answered + 0.3 < c.started < answered + 2 - 0.05]
    assert during == [], [(c.started - answered, c.status) for c in during]
    # The three others finished their first file meanwhile and went on with the one limited,
    # all four once its Retry-After was over.
    later = sorted(c.started - answered for c in api if c.started > answered + 0.3)
    assert len(later) >= 4 and later[0] >= 2 - 0.05
    assert sum(t < 2.4 for t in later) == 4, later


# -- Ctrl+C ------------------------------------------------------------------------------------


def test_ctrl_c_lets_those_in_flight_finish_and_starts_no_more(
    recraft_server, checkout_env, tmp_path, cli
):
    names = shots(tmp_path / "shots", 12)
    recraft_server.fault("delay", seconds=1.5, times=12, path=OP)
    child = popen(recraft_server, checkout_env, tmp_path, "remove-background", *names,
                  "-o", "out/", "--jobs", "3")  # fmt: skip
    try:
        wait_for(lambda: len(sent(recraft_server)) == 3)
        time.sleep(0.2)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
    finally:
        child.kill()
    assert child.returncode == 130, err
    assert "Traceback" not in err
    assert len(sent(recraft_server)) == 3  # no new one after Ctrl+C
    assert all(c.status == 200 for c in sent(recraft_server))
    assert len(lines(out, "done")) == 3 and len(list((tmp_path / "out").iterdir())) == 3
    assert "stopping: no new files; waiting for the 3 in flight" in err
    assert "interrupted: 3 done, 9 not started" in err
    # The same command again does the nine others.
    r = cli("remove-background", *names, "-o", "out/", "--jobs", "3")
    assert r.returncode == 0, r.stderr
    assert len(sent(recraft_server)) == 12 and "9 done, 3 skipped" in r.stderr


def test_a_second_ctrl_c_cancels_those_in_flight(recraft_server, checkout_env, tmp_path):
    names = shots(tmp_path / "shots", 6)
    recraft_server.fault("delay", seconds=6, times=6, path=OP)
    child = popen(recraft_server, checkout_env, tmp_path, "remove-background", *names,
                  "-o", "out/", "--jobs", "3")  # fmt: skip
    try:
        wait_for(lambda: len(sent(recraft_server)) == 3)
        child.send_signal(signal.SIGINT)
        time.sleep(0.3)
        cancelled_at = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
        took = time.monotonic() - cancelled_at
    finally:
        child.kill()
    assert child.returncode == 130, err
    assert took < 3  # not the six seconds the server takes
    assert "Traceback" not in err
    assert len(lines(out, "cancelled")) == 3
    assert "interrupted: 0 done, 3 cancelled, 3 not started" in err
    assert "may still be charged" in err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
    assert len(sent(recraft_server)) == 3


# -- names -------------------------------------------------------------------------------------


def test_a_folder_beside_its_inputs_and_a_rerun_leaves_the_results_out(
    cli, tmp_path, recraft_server
):
    """Without -o the results go beside their inputs, named as a single run names them; the
    folder given again holds them too, and they are not taken for new inputs."""
    shots(tmp_path / "shots", 2)
    r = cli("remove-background", "shots")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "shots").iterdir()) == [
        "shot00.png",
        "shot00.remove-background.png",
        "shot01.png",
        "shot01.remove-background.png",
    ]
    r = cli("remove-background", "shots")
    assert r.returncode == 0, r.stderr
    assert len(sent(recraft_server)) == 2
    assert "left out 2 input(s)" in r.stderr and "0 done, 2 skipped" in r.stderr


def test_several_results_per_file_are_numbered_and_skipped_together(cli, tmp_path, recraft_server):
    names = shots(tmp_path / "shots", 2)
    r = cli("remix", *names, "--size", "1:1", "--n", "2", "-o", "out")
    assert r.returncode == 0, r.stderr
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["shot00-1.png", "shot00-2.png", "shot01-1.png", "shot01-2.png"]
    (tmp_path / "out" / "shot01-2.png").unlink()  # half of one file's results: redone
    r = cli("remix", *names, "--size", "1:1", "--n", "2", "-o", "out")
    assert r.returncode == 0, r.stderr
    assert len(sent(recraft_server, "/v1/images/variateImage")) == 3
    assert "1 done, 1 skipped" in r.stderr


def test_results_that_would_share_a_name_are_refused_before_sending(cli, tmp_path, recraft_server):
    shots(tmp_path / "a", 1)
    shots(tmp_path / "b", 1)
    r = cli("remove-background", "a/shot00.png", "b/shot00.png", "-o", "out/")
    clean(r)
    assert r.returncode == 3 and "would both be written as" in r.stderr, r.stderr
    r = cli("remove-background", "a/shot00.png", "b/shot00.png", "-o", "a")
    assert r.returncode == 3 and "named like the input" in r.stderr, r.stderr
    (tmp_path / "file").write_text("x")
    r = cli("remove-background", "a/shot00.png", "b/shot00.png", "-o", "file")
    assert r.returncode == 3 and "names a folder" in r.stderr, r.stderr
    assert sent(recraft_server) == []


def test_one_file_is_a_single_run_as_before(cli, tmp_path, recraft_server):
    (tmp_path / "p.png").write_bytes(png(300, 260))
    for expected in ("p.remove-background.png", "p.remove-background-2.png"):
        r = cli("remove-background", "p.png", "--jobs", "4")
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == expected
    assert len(sent(recraft_server)) == 2


def test_no_history_keeps_nothing(cli, tmp_path, recraft_server, private_library):
    names = shots(tmp_path / "shots", 2)
    r = cli("remove-background", *names, "-o", "out", "--no-history")
    assert r.returncode == 0, r.stderr
    with Library(private_library) as library:
        assert library.list(limit=None) == []


# -- what is shown -----------------------------------------------------------------------------


def test_json_lines(cli, tmp_path, recraft_server):
    names = shots(tmp_path / "shots", 2)
    r = cli("remove-background", *names, "-o", "out", "--json")
    assert r.returncode == 0, r.stderr
    got = sorted((json.loads(line) for line in r.stdout.splitlines()), key=lambda d: d["input"])
    assert [d["state"] for d in got] == ["done", "done"]
    assert got[0]["outputs"] == [os.path.join("out", "shot00.png")]
    assert got[0]["credits"] > 0 and got[0]["answer"]["image"]["url"]


def test_a_progress_bar_on_a_terminal(recraft_server, checkout_env, tmp_path):
    names = shots(tmp_path / "shots", 3)
    env = checkout_env(
        RECRAFT_API_URL=recraft_server.base_url, RECRAFT_API_TOKEN=recraft_server.token
    )
    main, terminal = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "recraft_core", "remove-background", *names, "-o", "out"],
        cwd=tmp_path,
        env=env,
        stdout=terminal,
        stderr=subprocess.PIPE,
    )
    os.close(terminal)
    shown = b""
    try:
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        assert child.wait(timeout=30) == 0
    finally:
        child.kill()
        os.close(main)
    text = shown.decode()
    assert "\r\x1b[K[" in text and "3/3 · 3 done" in text  # drawn, and redrawn to the end
    assert text.count("done      shots/") == 3
