"""`recraft OPERATION a.png b.png ... -o out/ --jobs N`: a batch. Real HTTP against the local
server; what it received (when, how many at once, what it charged) and the files written are
what is checked."""

from __future__ import annotations

import json
import os
import pty
import resource
import signal
import socket
import struct
import subprocess
import sys
import time

import pytest

from images import png
from recraft_core import batch
from recraft_core.library import Library

OP = "/v1/images/removeBackground"
RB = "remove-background"  # in the results' names


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
        assert (tmp_path / "out" / f"shot{i:02d}.{RB}.png").read_bytes()[:4] == b"\x89PNG"
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
    (out / f"shot00.{RB}.png").write_bytes(b"old")
    (out / f".shot01.{RB}.png.x1y2.part").write_bytes(b"\x89PNG half")  # a killed run's
    r = cli("remove-background", *names, "-o", "out")
    assert r.returncode == 0, r.stderr
    assert len(sent(recraft_server)) == 2  # shot01 and shot02
    assert (out / f"shot00.{RB}.png").read_bytes() == b"old"
    r = cli("remove-background", *names, "-o", "out", "--force")
    assert r.returncode == 0, r.stderr
    assert len(sent(recraft_server)) == 5
    assert (out / f"shot00.{RB}.png").read_bytes()[:4] == b"\x89PNG"


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
    assert len(written) == 5 and os.path.basename(bad).replace(".png", f".{RB}.png") not in written
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
    assert "stopping: nothing more is sent; waiting for the 3 in flight" in err
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
    assert "left out 2 earlier result(s)" in r.stderr and "0 done, 2 skipped" in r.stderr


def test_several_results_per_file_are_numbered_and_skipped_together(cli, tmp_path, recraft_server):
    names = shots(tmp_path / "shots", 2)
    r = cli("remix", *names, "--size", "1:1", "--n", "2", "-o", "out")
    assert r.returncode == 0, r.stderr
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == [
        "shot00.remix-1.png",
        "shot00.remix-2.png",
        "shot01.remix-1.png",
        "shot01.remix-2.png",
    ]
    (tmp_path / "out" / "shot01.remix-2.png").unlink()  # half of one file's results: redone
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
    mask = "b/shot00.inpaint.png"  # named as a result would be
    (tmp_path / mask).write_bytes(png(300, 260))
    r = cli("inpaint", "a/shot00.png", "b/shot00.png", "--prompt", "x", "--mask", mask, "-o", "b")
    assert r.returncode == 3 and "named like the input" in r.stderr, r.stderr
    (tmp_path / "file").write_text("x")
    r = cli("remove-background", "a/shot00.png", "b/shot00.png", "-o", "file")
    assert r.returncode == 2 and "need -o to be a folder" in r.stderr, r.stderr
    assert sent(recraft_server) == []


def test_one_file_is_a_single_run_as_before(cli, tmp_path, recraft_server):
    (tmp_path / "p.png").write_bytes(png(300, 260))
    (tmp_path / "q.png").write_bytes(png(300, 260, value=90))
    for expected in ("p.remove-background.png", "p.remove-background-2.png"):
        r = cli("remove-background", "p.png", "--jobs", "4")
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == expected
    assert len(sent(recraft_server)) == 2
    # Into a folder it is named as a batch names it, so a later batch there counts it as done.
    r = cli("remove-background", "p.png", "-o", "out/")
    assert r.returncode == 0 and r.stdout.strip() == f"out/p.{RB}.png", r.stderr
    r = cli("remove-background", "p.png", "q.png", "-o", "out/")
    assert "1 done, 1 skipped" in r.stderr and len(sent(recraft_server)) == 4, r.stderr


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
    assert got[0]["outputs"] == [os.path.join("out", f"shot00.{RB}.png")]
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


# -- what a new user met (the tester's list) ---------------------------------------------------


def test_another_operations_results_in_the_same_folder_are_not_taken_for_done(
    cli, tmp_path, recraft_server
):
    """Each operation's results carry its name: remove-background after crisp-upscale into
    one -o folder does its own files, a rerun skips only its own, and --force replaces only
    its own."""
    names = shots(tmp_path / "shots", 2)
    r = cli("crisp-upscale", *names, "-o", "deliver/")
    assert r.returncode == 0, r.stderr
    upscaled = {p.name: p.read_bytes() for p in (tmp_path / "deliver").iterdir()}
    assert sorted(upscaled) == ["shot00.crisp-upscale.png", "shot01.crisp-upscale.png"]
    r = cli("remove-background", *names, "-o", "deliver/")
    clean(r)
    assert r.returncode == 0, r.stderr
    assert len(sent(recraft_server)) == 2 and "2 done" in r.stderr
    r = cli("remove-background", *names, "-o", "deliver/")
    assert len(sent(recraft_server)) == 2 and "0 done, 2 skipped" in r.stderr
    r = cli("remove-background", *names, "-o", "deliver/", "--force")
    assert r.returncode == 0 and len(sent(recraft_server)) == 4, r.stderr
    assert sorted(p.name for p in (tmp_path / "deliver").iterdir()) == [
        "shot00.crisp-upscale.png",
        f"shot00.{RB}.png",
        "shot01.crisp-upscale.png",
        f"shot01.{RB}.png",
    ]
    for name, data in upscaled.items():
        assert (tmp_path / "deliver" / name).read_bytes() == data  # never replaced


def test_the_first_ctrl_c_stops_the_files_held_by_a_429(
    recraft_server, checkout_env, tmp_path, cli
):
    """Files waiting out a 429 at the gate are not sent after Ctrl+C, and the wait ends at
    once; the note counts only what is really in flight (none here)."""
    names = shots(tmp_path / "shots", 6)
    # Faults go to requests in the order they arrive: the first two are slow, the third gets
    # the 429 only once both are in flight (a 429 that came first would hold them at the gate).
    recraft_server.fault("delay", seconds=1.5, times=2, path=OP)
    recraft_server.fault("status", status=429, retry_after=30, times=1, path=OP)
    recraft_server.fault("delay", seconds=1.5, times=20, path=OP)
    child = popen(recraft_server, checkout_env, tmp_path, "remove-background", *names,
                  "-o", "out/", "--jobs", "3")  # fmt: skip
    try:
        wait_for(lambda: sum(c.status == 200 for c in sent(recraft_server)) == 2)
        wait_for(lambda: len(list((tmp_path / "out").glob("*.png"))) == 2)
        time.sleep(0.3)  # the two workers took their next files: held at the gate with the 429'd
        pressed = time.monotonic()
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=40)
        took = time.monotonic() - pressed
    finally:
        child.kill()
    assert child.returncode == 130, err
    assert took < 5, err  # not the 30 s Recraft asked for
    assert [c.status for c in sent(recraft_server)].count(429) == 1
    assert len(sent(recraft_server)) == 3  # nothing sent after Ctrl+C
    assert "Recraft asks to wait 30 s (rate limit); all workers paused" in err
    assert "stopping: nothing more is sent\n" in err and "waiting for" not in err
    assert "interrupted: 2 done, 4 not started" in err
    r = cli("remove-background", *names, "-o", "out/", "--jobs", "3")
    assert r.returncode == 0 and "4 done, 2 skipped" in r.stderr, r.stderr


def test_a_folder_that_cannot_be_written_costs_nothing(cli, tmp_path, recraft_server):
    """Tried for real before sending: root passes os.access on /proc, and nothing could be
    written there."""
    names = shots(tmp_path / "shots", 3)
    r = cli("remove-background", *names, "-o", "/proc/nope/")
    clean(r)
    assert r.returncode == 3 and "cannot write into /proc/nope" in r.stderr, r.stderr
    assert sent(recraft_server) == []


def _small_files_only() -> None:
    """In the child: no file over 1 KB can be written (EFBIG), as on a full disk."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def test_a_result_that_cannot_be_written_stops_the_batch(recraft_server, checkout_env, tmp_path):
    names = shots(tmp_path / "shots", 5)
    env = checkout_env(
        RECRAFT_API_URL=recraft_server.base_url, RECRAFT_API_TOKEN=recraft_server.token
    )
    credits = recraft_server.credits
    r = subprocess.run(
        [sys.executable, "-m", "recraft_core", "remove-background", *names, "-o", "out/",
         "--jobs", "1", "--no-history"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        preexec_fn=_small_files_only,
    )  # fmt: skip
    clean(r)
    assert r.returncode == 8, r.stderr
    assert len(sent(recraft_server)) == 1  # no new file sent after the first failed write
    spent = credits - recraft_server.credits
    assert spent == 10
    assert "0 done, 1 failed, 4 not started; 10 credits" in r.stderr
    assert "the result was not written (File too large)" in r.stderr
    assert "once out can take the results" in r.stderr
    assert not list((tmp_path / "out").iterdir())  # no temporary file left either


def test_a_folder_leaves_out_earlier_results_of_any_operation(cli, tmp_path, recraft_server):
    """Results lying beside their inputs (a single run's -2 name, another operation's) are
    not sent again when their folder is given; named as files, they are; a folder of
    results alone is taken as it is."""
    shots(tmp_path / "shots", 2)
    folder = tmp_path / "shots"
    (folder / "shot00.remove-background-2.png").write_bytes(png(300, 260, value=7))
    (folder / "shot01.crisp-upscale.png").write_bytes(png(300, 260, value=8))
    (folder / "shot01.crisp-upscale.remix-1.png").write_bytes(png(300, 260, value=9))
    r = cli("remove-background", "shots", "-o", "out/")
    clean(r)
    assert r.returncode == 0, r.stderr
    assert sorted(c.files["image"][0].filename for c in sent(recraft_server)) == [
        "shot00.png",
        "shot01.png",
    ]
    assert "left out 3 earlier result(s)" in r.stderr
    r = cli("remove-background", "shots/shot01.crisp-upscale.png", "shots/shot00.png", "-o", "o2/")
    assert r.returncode == 0 and len(sent(recraft_server)) == 4, r.stderr
    r = cli("crisp-upscale", "out")  # results only: what the user wants upscaled
    assert r.returncode == 0 and "2 done" in r.stderr, r.stderr


def test_the_same_command_again_is_advised_only_where_it_does_the_rest(
    cli, tmp_path, recraft_server
):
    names = shots(tmp_path / "shots", 3)
    again = "run the same command again"
    # A file Recraft refuses as sent is refused again.
    recraft_server.fault("status", status=400, times=1, path=OP, message="bad pixels")
    r = cli("remove-background", *names, "-o", "a/", "--jobs", "1")
    assert r.returncode == 8 and again not in r.stderr, r.stderr
    assert "1 file would fail again as sent" in r.stderr
    # With --force a rerun redoes every file: said so.
    recraft_server.fault("status", status=502, times=2, path=OP)
    r = cli("remove-background", *names, "-o", "a/", "--jobs", "1", "--force")
    assert r.returncode == 8 and again not in r.stderr, r.stderr
    assert "to do the 1 file left, run it again without --force" in r.stderr
    # A refused token: not before the token works.
    r = cli("remove-background", *names, "-o", "b/", "--jobs", "1", RECRAFT_API_TOKEN="wrong")
    assert r.returncode == 8 and again not in r.stderr, r.stderr
    assert "once the token works (recraft login, or RECRAFT_API_TOKEN)" in r.stderr
    # A failure a rerun gets past: said.
    recraft_server.fault("status", status=502, times=2, path=OP)
    r = cli("remove-background", *names, "-o", "c/", "--jobs", "1")
    assert r.returncode == 8 and f"{again} to do the 1 file left" in r.stderr, r.stderr


def test_a_long_rate_limit_ends_the_batch_in_words(cli, tmp_path, recraft_server):
    names = shots(tmp_path / "shots", 3)
    recraft_server.fault("status", status=429, retry_after=500, times=1, path=OP)
    r = cli("remove-background", *names, "-o", "out/", "--jobs", "1")
    clean(r)
    assert r.returncode == 8, r.stderr
    assert "rate limited by Recraft; try again in 500 s" in r.stderr
    assert "HTTP 429" not in r.stderr + r.stdout
    assert "after 500 s, the same command does the 3 files left" in r.stderr


def test_a_429_pause_is_shown_on_the_progress_bar(recraft_server, checkout_env, tmp_path):
    names = shots(tmp_path / "shots", 2)
    recraft_server.fault("status", status=429, retry_after=2, times=1, path=OP)
    env = checkout_env(
        RECRAFT_API_URL=recraft_server.base_url, RECRAFT_API_TOKEN=recraft_server.token
    )
    main, terminal = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "recraft_core", "remove-background", *names, "-o", "out",
         "--jobs", "1"],
        cwd=tmp_path, env=env, stdout=terminal, stderr=subprocess.PIPE,
    )  # fmt: skip
    os.close(terminal)
    shown = b""
    try:
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        assert child.wait(timeout=30) == 0
        err = child.stderr.read().decode()
    finally:
        child.kill()
        os.close(main)
    assert "paused 2 s (rate limit)" in shown.decode()
    assert "Recraft asks to wait 2 s (rate limit); all workers paused" in err


def test_a_retry_that_may_have_cost_twice_names_its_file(cli, tmp_path, recraft_server):
    names = shots(tmp_path / "shots", 2)
    recraft_server.fault("status", status=500, times=1, path=OP)
    r = cli("remove-background", *names, "-o", "out/", "--jobs", "1")
    clean(r)
    assert r.returncode == 0, r.stderr
    assert (
        f"warning: {names[0]}: POST /images/removeBackground succeeded on try 2; an earlier "
        "try failed with HTTP 500" in r.stderr
    ), r.stderr


def test_o_naming_a_file_with_several_inputs_is_refused(cli, tmp_path, recraft_server):
    names = shots(tmp_path / "shots", 2)
    r = cli("remove-background", *names, "-o", "single.png")
    clean(r)
    assert r.returncode == 2, r.stderr
    assert "several inputs need -o to be a folder (end it with /)" in r.stderr
    assert not (tmp_path / "single.png").exists() and sent(recraft_server) == []
    r = cli("remove-background", *names, "-o", "single.png/")  # a folder, as asked
    assert r.returncode == 0 and (tmp_path / "single.png").is_dir(), r.stderr


def test_credits_of_files_cancelled_after_they_were_sent_are_counted(
    recraft_server, checkout_env, tmp_path
):
    names = shots(tmp_path / "shots", 4)
    recraft_server.fault("delay", seconds=0.2, times=1, path=OP)
    recraft_server.fault("delay", seconds=5, times=3, path=OP)
    credits = recraft_server.credits
    child = popen(recraft_server, checkout_env, tmp_path, "remove-background", *names,
                  "-o", "out/", "--jobs", "4")  # fmt: skip
    try:
        wait_for(lambda: len(list((tmp_path / "out").glob("*.png"))) == 1)
        child.send_signal(signal.SIGINT)
        time.sleep(0.3)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=30)
    finally:
        child.kill()
    assert child.returncode == 130, err
    assert (
        "interrupted: 1 done, 3 cancelled; 10 credits, and up to 30 more for 3 cancelled "
        "after they were sent" in err
    ), err
    wait_for(lambda: credits - recraft_server.credits == 40, timeout=10)  # Recraft's view


def test_a_dry_run_says_what_a_run_says(cli, tmp_path, recraft_server):
    names = shots(tmp_path / "shots", 2)
    (tmp_path / "shots" / "tiny.png").write_bytes(png(100, 100))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / f"shot00.{RB}.png").write_bytes(png(300, 260))
    r = cli("remove-background", *names, "shots/tiny.png", "-o", "out/", "--dry-run")
    clean(r)
    assert r.returncode == 3, r.stderr
    assert len(lines(r.stdout, "skipped")) == 1 and len(lines(r.stdout, "refused")) == 1
    assert "dry run: 1 to send, 1 refused, 1 skipped" in r.stderr
    assert sent(recraft_server) == []
    r = cli("remove-background", *names, "shots/tiny.png", "-o", "out/")
    assert r.returncode == 8, r.stderr
    (line,) = lines(r.stdout, "refused")
    assert "shots/tiny.png: invalid input: image: 100x100" in line
    assert len(lines(r.stdout, "skipped")) == 1 and "1 done, 1 refused, 1 skipped" in r.stderr
    assert len(sent(recraft_server)) == 1


def test_temporary_files_a_killed_run_left_are_removed(cli, tmp_path, recraft_server):
    names = shots(tmp_path / "shots", 2)
    out = tmp_path / "out"
    out.mkdir()
    stale = out / f".shot00.{RB}.png.0123abcd.part"
    stale.write_bytes(b"\x89PNG half")
    hour_ago = time.time() - 3600
    os.utime(stale, (hour_ago, hour_ago))
    going_on = out / f".shot01.{RB}.png.4567cdef.part"  # another run's, being written now
    going_on.write_bytes(b"\x89PNG")
    later = time.time() + 3600
    os.utime(going_on, (later, later))
    theirs = out / ".notes.txt.0123abcd.bak"
    theirs.write_text("not ours")
    os.utime(theirs, (hour_ago, hour_ago))
    r = cli("remove-background", *names, "-o", "out/")
    assert r.returncode == 0, r.stderr
    assert not stale.exists() and going_on.exists() and theirs.exists()
    assert "removed 1 temporary file(s) left by an earlier run" in r.stderr


def test_the_history_finds_a_batch_by_file_name_and_shows_its_paths(
    cli, run_cli, tmp_path, recraft_server
):
    folder = tmp_path / "shots"
    folder.mkdir()
    for i in (4, 5):
        (folder / f"IMG_000{i}.png").write_bytes(png(300, 260, value=i))
    r = cli("remove-background", "shots", "-o", "out/")
    assert r.returncode == 0, r.stderr
    r = run_cli("history", "--search", "IMG_0005")
    assert r.returncode == 0, r.stderr
    (row,) = r.stdout.splitlines()
    assert "[IMG_0005.png]" in row
    r = run_cli("history", "show", row.split()[0])
    assert r.returncode == 0, r.stderr
    shown = dict(line.split(None, 1) for line in r.stdout.splitlines() if line[:1] != " ")
    assert shown["input"] == str(folder / "IMG_0005.png")
    assert shown["written"].endswith(str(tmp_path / "out" / f"IMG_0005.{RB}.png"))


def test_a_missing_input_refuses_the_batch_before_sending(cli, tmp_path, recraft_server):
    names = shots(tmp_path / "shots", 2)
    r = cli("remove-background", *names, "shots/gone.png", "-o", "out/")
    clean(r)
    assert r.returncode == 3 and "shots/gone.png: no such file" in r.stderr, r.stderr
    assert sent(recraft_server) == []


def test_failures_name_the_file_and_a_refused_token_says_how_to_fix_it(
    cli, tmp_path, recraft_server
):
    (tmp_path / "tiny.png").write_bytes(png(100, 100))
    r = cli("remove-background", "tiny.png")
    assert r.returncode == 3, r.stderr
    assert "recraft remove-background: tiny.png: invalid input: image: 100x100" in r.stderr
    (tmp_path / "p.png").write_bytes(png(300, 260))
    for args in (["p.png"], ["p.png", "tiny.png", "-o", "out/"]):
        r = cli("remove-background", *args, RECRAFT_API_TOKEN="wrong")
        clean(r)
        assert "HTTP 401" in r.stderr and "run `recraft login` (or set RECRAFT_API_TOKEN)" in (
            r.stderr
        ), r.stderr
    assert "p.png: the API refused" in r.stderr


def test_a_client_that_goes_away_is_one_line_in_the_servers_log(recraft_server, capfd, monkeypatch):
    monkeypatch.setattr(recraft_server, "verbose", True)
    capfd.readouterr()
    for request in (b"", b"GET /v1/users/me HTTP/1.1\r\nHost: x\r\n\r\n"):
        conn = socket.create_connection(("127.0.0.1", recraft_server.port))
        conn.sendall(request)
        time.sleep(0.2)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()  # a reset, as a killed client's
    time.sleep(0.3)
    err = capfd.readouterr().err
    assert "Traceback" not in err, err
    assert err.count("closed the connection (ConnectionResetError)") == 2, err


def test_ctrl_c_while_the_command_loads_is_quiet(recraft_server, checkout_env, tmp_path):
    """Ctrl+C within the first moments (the modules loading): 130, no traceback. The child
    says which module it has loaded (-X importtime); the signal comes as requests loads."""
    (tmp_path / "p.png").write_bytes(png(300, 260))
    env = checkout_env(
        RECRAFT_API_URL=recraft_server.base_url, RECRAFT_API_TOKEN=recraft_server.token
    )
    child = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-m", "recraft_core", "remove-background", "p.png"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        for line in child.stderr:
            if line.split("|")[-1].strip() == "urllib3":
                child.send_signal(signal.SIGINT)
                break
        err = child.stderr.read()
        assert child.wait(timeout=30) == 130, err
    finally:
        child.kill()
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
