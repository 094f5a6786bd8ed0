"""Many jobs at once: the queue an editor polls, over real HTTP to the local server."""

from __future__ import annotations

import queue as queues
import threading
import time

import pytest

from recraft_core import Client, RetryPolicy
from recraft_core.workflow import Job, MemoryCanvas, MemoryLayer
from recraft_core.workflow.canvas import PurePythonCodec
from recraft_core.workflow.queue import Batch, JobQueue
from test_workflow import photo, raster

REMOVE = "/images/removeBackground"


@pytest.fixture
def client(recraft_server):
    policy = RetryPolicy(2, backoff=0.1)
    with Client(recraft_server.token, base_url=recraft_server.base_url, retry=policy) as c:
        yield c


def canvas(width: int = 300, height: int = 300, x: int = 0, seed: int = 1) -> MemoryCanvas:
    return MemoryCanvas(1000, 800, [MemoryLayer("art", raster(photo(width, height, seed)), x=x)])


def queued(client, queue: JobQueue, *canvases: MemoryCanvas) -> list[Job]:
    jobs = []
    for c in canvases:
        job = Job(client, "remove_background", c, library=None)
        job.prepare()
        queue.add(job)
        jobs.append(job)
    return jobs


def drain(queue: JobQueue, timeout: float = 60) -> list[Job]:
    """Poll as an editor's timer does, applying what ends; the jobs in the order they ended."""
    ended, deadline = [], time.monotonic() + timeout
    while len(queue) and time.monotonic() < deadline:
        for job in queue.poll():
            job.apply()
            ended.append(job)
        time.sleep(0.02)
    assert not len(queue), "the queue did not drain"
    return ended


def sent(recraft_server, since: float) -> list:
    return [r for r in recraft_server.requests if r.path.endswith(REMOVE) and r.started >= since]


def most_at_once(records) -> int:
    events = sorted(
        [(r.started, 1) for r in records] + [(r.started + r.duration, -1) for r in records]
    )
    now = peak = 0
    for _, step in events:
        now += step
        peak = max(peak, now)
    return peak


def test_jobs_run_at_most_limit_at_once_each_result_in_its_own_place(client, recraft_server):
    t0 = time.time()
    recraft_server.fault("delay", seconds=0.6, times=5, path=REMOVE)
    canvases = [canvas(300 + 20 * i, 300, x=10 * i, seed=i) for i in range(5)]
    queue = JobQueue(limit=2)
    jobs = queued(client, queue, *canvases)
    assert queue.jobs == jobs and [j.state for j in jobs] == ["prepared"] * 5

    ended = drain(queue)
    assert sorted(ended, key=jobs.index) == jobs
    got = sent(recraft_server, t0)
    assert len(got) == 5 and most_at_once(got) == 2
    for i, c in enumerate(canvases):
        new = c.layers[1]
        assert (new.x, new.image.width) == (10 * i, 300 + 20 * i), "a result went astray"
    assert {r.files["image"][0].width for r in got} == {300 + 20 * i for i in range(5)}


def test_a_waiting_job_cancelled_is_never_sent(client, recraft_server):
    t0 = time.time()
    recraft_server.fault("delay", seconds=0.5, times=3, path=REMOVE)
    queue = JobQueue(limit=1)
    first, second, third = queued(client, queue, canvas(), canvas(seed=2), canvas(seed=3))
    queue.poll()
    queue.cancel(second)
    assert second.done and second.state == "cancelled"
    assert "before it was sent" in str(second.error)
    assert not second.error.may_have_cost
    drain(queue)
    assert len(sent(recraft_server, t0)) == 2
    batch = Batch()
    for label, job in zip(("a", "b", "c"), (first, second, third), strict=True):
        batch.add(label, job)
    assert batch.summary() == "2 done, 1 cancelled" and not batch.ok


def test_a_closed_documents_waiting_jobs_are_dropped_its_running_one_goes_on(
    client, recraft_server
):
    t0 = time.time()
    recraft_server.fault("delay", seconds=0.5, times=3, path=REMOVE)
    queue = JobQueue(limit=1)
    closing, other = canvas(), canvas(seed=2)
    running, waiting = queued(client, queue, closing, closing)
    (elsewhere,) = queued(client, queue, other)
    queue.poll()
    assert queue.drop_waiting(lambda job: job.canvas is closing) == [waiting]
    drain(queue)
    assert running.state == "applied" and elsewhere.state == "applied"
    assert waiting.state == "cancelled"
    assert len(sent(recraft_server, t0)) == 2


def test_a_429_delays_a_job_without_failing_it(client, recraft_server):
    t0 = time.time()
    recraft_server.fault("status", status=429, retry_after=1, path=REMOVE)
    queue = JobQueue(limit=3)
    jobs = queued(client, queue, canvas(), canvas(seed=2), canvas(seed=3))
    drain(queue)
    assert [job.state for job in jobs] == ["applied"] * 3
    got = sent(recraft_server, t0)
    assert [r.status for r in got].count(429) == 1 and len(got) == 4


def test_a_failure_is_named_and_the_others_are_done(client, recraft_server):
    recraft_server.fault("status", status=400, path=REMOVE)
    queue = JobQueue()
    jobs = queued(client, queue, canvas(), canvas(seed=2))
    drain(queue)
    batch = Batch()
    for label, job in zip(("layer 'one'", "layer 'two'"), jobs, strict=True):
        batch.add(label, job)
    text = batch.summary()
    assert text.startswith("1 done, 1 failed: layer '") and not batch.ok
    failed = [job for job in jobs if job.error is not None]
    assert len(failed) == 1 and failed[0].error.user_message in text


class Threads:
    """Threads started once, as an editor keeps them: `start` hands them a job to run."""

    def __init__(self, count: int) -> None:
        self.tasks: queues.SimpleQueue = queues.SimpleQueue()
        self.ran: list[tuple[Job, str]] = []  # (job, the thread that ran it)
        self.threads = [
            threading.Thread(target=self._serve, name=f"pool-{k}", daemon=True)
            for k in range(count)
        ]
        for thread in self.threads:
            thread.start()

    def start(self, job: Job) -> None:
        self.tasks.put(job)

    def _serve(self) -> None:
        while (job := self.tasks.get()) is not None:
            self.ran.append((job, threading.current_thread().name))
            job.run()

    def stop(self) -> None:
        for _ in self.threads:
            self.tasks.put(None)


def job_threads() -> list[str]:
    """Threads Job.start made (it names them after the operation; the transport's own, one
    per request, started on the job's thread, and the local server's are others)."""
    return [t.name for t in threading.enumerate() if t.name == "recraft-remove_background"]


def test_jobs_start_through_the_editors_own_threads(client, recraft_server):
    """`start=`: the queue hands each job to the editor's threads (started once, before) and
    starts no thread of its own; the limit and each result's place hold as with Job.start."""
    t0 = time.time()
    recraft_server.fault("delay", seconds=0.5, times=4, path=REMOVE)
    pool = Threads(2)
    try:
        queue = JobQueue(limit=2, start=pool.start)
        canvases = [canvas(300 + 20 * i, 300, x=10 * i, seed=i) for i in range(4)]
        jobs = queued(client, queue, *canvases)
        assert job_threads() == []
        queue.poll()
        assert job_threads() == [], "poll started a thread"
        assert queue.running == jobs[:2] and queue.waiting == jobs[2:]
        ended, started = [], []
        while len(queue):
            ended += queue.poll()
            started += job_threads()
            for job in ended:
                if job.state == "finished":
                    job.apply()
            time.sleep(0.02)
        assert started == [], "the queue started a thread"
    finally:
        pool.stop()
    assert sorted(ended, key=jobs.index) == jobs
    assert [job for job, _ in pool.ran] == jobs, "started out of order"
    assert {name for _, name in pool.ran} <= {"pool-0", "pool-1"}
    got = sent(recraft_server, t0)
    assert len(got) == 4 and most_at_once(got) == 2
    for i, c in enumerate(canvases):
        assert (c.layers[1].x, c.layers[1].image.width) == (10 * i, 300 + 20 * i)


def test_a_job_cancelled_before_the_editors_thread_took_it_is_never_sent(client, recraft_server):
    """Handed to a busy thread of the editor's: the job counts as running (the limit holds)
    but is not sent yet; cancelled then, it ends at once and the thread never sends it."""
    t0 = time.time()
    recraft_server.fault("delay", seconds=0.6, times=2, path=REMOVE)
    pool = Threads(1)
    try:
        queue = JobQueue(limit=2, start=pool.start)
        first, second = queued(client, queue, canvas(), canvas(seed=2))
        queue.poll()
        assert queue.running == [first, second]
        queue.cancel(second)
        assert second.done and "before it was sent" in str(second.error)
        drain(queue)
    finally:
        pool.stop()
    assert first.state == "applied" and second.state == "cancelled"
    assert len(sent(recraft_server, t0)) == 1


def test_only_prepared_jobs_are_queued(client):
    with pytest.raises(ValueError, match="prepared"):
        JobQueue().add(Job(client, "remove_background", canvas(), library=None))


class CountingCodec(PurePythonCodec):
    def __init__(self) -> None:
        self.encoded: list[str] = []  # the thread of each encoding

    def encode_png(self, image, opaque=False):
        self.encoded.append(threading.current_thread().name)
        return super().encode_png(image, opaque)


class HeldCodec(CountingCodec):
    """Encodes only once released: the job holding it has not made its files till then."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def encode_png(self, image, opaque=False):
        assert self.release.wait(20), "never released"
        return super().encode_png(image, opaque)


class Encoder:
    """The editor's thread for `ahead=`: encodes the waiting jobs it is handed, in turn."""

    def __init__(self) -> None:
        self.handed: list[Job] = []
        self.tasks: queues.SimpleQueue = queues.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, name="encoder", daemon=True)
        self.thread.start()

    def ahead(self, job: Job) -> None:
        self.handed.append(job)
        self.tasks.put(job)

    def _serve(self) -> None:
        while (job := self.tasks.get()) is not None:
            job.encode_ahead()

    def stop(self) -> None:
        self.tasks.put(None)


def poll_until(queue: JobQueue, condition, timeout: float = 20) -> list[Job]:
    ended, deadline = [], time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        ended += queue.poll()
        time.sleep(0.01)
    return ended


def test_waiting_jobs_are_encoded_while_the_running_one_waits_for_recraft(client, recraft_server):
    """`ahead=`: once the running job has sent its files, the waiting ones are handed over
    to be encoded (nothing of theirs is sent then); each sends those very files on its turn,
    and its result goes where it was asked for, as without."""
    t0 = time.time()
    recraft_server.fault("delay", seconds=1.0, times=3, path=REMOVE)
    encoder = Encoder()
    try:
        queue = JobQueue(limit=1, ahead=encoder.ahead)
        canvases = [canvas(300 + 20 * i, 300, x=10 * i, seed=i) for i in range(3)]
        for c in canvases:
            c.codec = CountingCodec()
        canvases[0].codec = held = HeldCodec()  # the running job is still making its files
        first, *waiting = jobs = queued(client, queue, *canvases)
        queue.poll()
        time.sleep(0.1)
        queue.poll()
        assert encoder.handed == [], "handed over while the running job had its files to make"
        held.release.set()
        poll_until(queue, lambda: first.encoded)
        ended = poll_until(queue, lambda: all(job.encoded for job in waiting))
        assert encoder.handed == waiting
        assert not first.done and [job.state for job in waiting] == ["prepared"] * 2
        assert [job.progress.stage for job in waiting] == ["preparing"] * 2  # shown waiting
        assert len(sent(recraft_server, t0)) == 1, "a waiting job was sent"
        ended += drain(queue)
    finally:
        held.release.set()
        queue.cancel_all()  # a failure above must not leave a job sending into the next test
        encoder.stop()
    assert ended == jobs and encoder.handed == waiting, "one was handed over twice"
    encoded = [c.codec.encoded for c in canvases]
    assert encoded[1:] == [["encoder"], ["encoder"]], "not encoded ahead, or again on its turn"
    got = sent(recraft_server, t0)
    assert len(got) == 3 and most_at_once(got) == 1
    assert [r.files["image"][0].width for r in got] == [300, 320, 340]
    for i, c in enumerate(canvases):
        new = c.layers[1]
        assert (new.x, new.image.width) == (10 * i, 300 + 20 * i), "a result went astray"
        alone = Job(client, "remove_background", canvas(300 + 20 * i, 300, x=10 * i, seed=i))
        alone.prepare()
        alone.run()
        assert alone.apply().layers[0].image == new.image, "not the result of a job alone"


def test_a_job_cancelled_once_encoded_ahead_is_never_sent(client, recraft_server):
    t0 = time.time()
    credits = recraft_server.credits
    # Long enough that the first is still at Recraft when the others are made, on a slow machine.
    recraft_server.fault("delay", seconds=3, times=2, path=REMOVE)
    encoder = Encoder()
    try:
        queue = JobQueue(limit=1, ahead=encoder.ahead)
        first, second, third = queued(client, queue, canvas(), canvas(seed=2), canvas(seed=3))
        poll_until(queue, lambda: second.encoded and third.encoded)
        assert queue.running == [first]
        queue.cancel(second)
        assert second.done and second.state == "cancelled"
        assert "before it was sent" in str(second.error) and not second.error.may_have_cost
        drain(queue)
    finally:
        queue.cancel_all()
        encoder.stop()
    assert [first.state, third.state] == ["applied", "applied"]
    assert len(sent(recraft_server, t0)) == 2
    assert credits - recraft_server.credits == 2 * first.outcome.credits
