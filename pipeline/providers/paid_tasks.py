"""What every paid remote task shares, whatever the vendor: one connection pool, per-model slots, the tasks this
process waits on (so Ctrl-C can stop them), polling pauses with jitter, and downloads that are checked."""

from __future__ import annotations

import base64
import logging
import math
import mimetypes
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import imageio_ffmpeg
from pydantic import SecretStr

from pipeline.errors import ConfigError, ProviderError, ShortsError
from pipeline.state.ledger import Ledger

DOWNLOAD_TRIES = 3
# A read timeout may be minutes (a model at work), but a host that does not accept a connection within seconds is
# unreachable: httpx applies a single number to both, so every long timeout here keeps its connect part short.
CONNECT_TIMEOUT = 10.0
DOWNLOAD_TIMEOUT = 120.0  # seconds without a byte before a download gives up

log = logging.getLogger("shorts.remote")

_http: httpx.Client | None = None
_HTTP_LOCK = threading.Lock()
_SLOTS: dict[tuple[str, ...], threading.BoundedSemaphore] = {}
_SLOTS_LOCK = threading.Lock()


class Unreadable(Exception):
    """A download that is not a readable file of its kind (worth fetching again)."""


def covering_duration(allowed: tuple[int, ...], seconds: float) -> int:
    """The shortest clip duration a model allows that covers `seconds` (the render trims the rest)."""
    return next((d for d in allowed if d >= math.ceil(seconds - 1e-6)), allowed[-1])


@contextmanager
def billed(vendor: str, what: str) -> Iterator[None]:
    """Around what follows a billed answer (keeping it, recording it): a failure there is one sentence that is never
    retried blindly, since a retry would buy `what` again. Our own errors keep their sentence."""
    try:
        yield
    except ShortsError:
        raise
    except Exception as exc:  # a surprise after paying: without this, the step's retry would pay again
        raise ProviderError(f"{vendor} made and billed {what}, but keeping it failed ({type(exc).__name__}: "
                            f"{cut_text(str(exc), 160)}); rerun when a second charge is acceptable.",
                            maybe_billed=True) from exc


def required_key(secret: SecretStr | None, flag: str, env_var: str, what: str) -> str:
    """The key's value, or a ConfigError saying which variable `flag` needs (`what` says where keys come from)."""
    value = secret.get_secret_value() if secret else ""
    if not value:
        raise ConfigError(f"{flag} needs {env_var} ({what}); set it, or pick the offline provider.")
    return value


def timeouts(seconds: float) -> httpx.Timeout:
    """`seconds` to wait for an answer, but at most CONNECT_TIMEOUT of them to open the connection."""
    return httpx.Timeout(seconds, connect=min(CONNECT_TIMEOUT, seconds))


def shared_http_client() -> httpx.Client:
    """One connection pool for every vendor call and download in this process (httpx clients are thread-safe)."""
    global _http
    with _HTTP_LOCK:
        if _http is None:
            _http = httpx.Client(timeout=timeouts(DOWNLOAD_TIMEOUT), follow_redirects=True,
                                 limits=httpx.Limits(max_connections=100, max_keepalive_connections=20))
        return _http


def one_job_at_a_time(ledger: Ledger, provider: str, key: str, label: str) -> AbstractContextManager[None]:
    """Hold the paid job `key` for its whole life (submit, wait, download) in every thread and process (and machine,
    with a shared ledger) that uses `ledger`: a second job with the same key (another run, or a scene with the same
    inputs) waits, then finds the first one's task in the ledger and reuses it instead of paying again. The lock (a
    flock, or a Postgres advisory lock) dies with a killed run."""
    return ledger.hold(f"{provider}-job-{key}",
                       waiting=f"{label}: waiting for the same {provider} task, which another run or scene is making")


def slot(key: tuple[str, ...], size: Callable[[], int]) -> threading.BoundedSemaphore:
    """The semaphore that limits tasks in flight for `key` (vendor, server, model); `size` is asked once."""
    with _SLOTS_LOCK:
        if key not in _SLOTS:
            _SLOTS[key] = threading.BoundedSemaphore(size())
        return _SLOTS[key]


def retry_after(response: httpx.Response) -> float | None:
    """The seconds a Retry-After header asks for, if it gives a number."""
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def data_uri(path: Path) -> str:
    """The file as a data URI (`data:image/png;base64,...`), which both vendors take for input images."""
    media = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{media};base64,{base64.b64encode(path.read_bytes()).decode()}"


def cut_text(text: str, limit: int) -> str:
    """`text` with its whitespace collapsed, shortened to `limit` UTF-16 code units (as vendors count them), on a
    word boundary when there is one."""
    text = " ".join(text.split())
    units, end = 0, 0
    for end, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            break
    else:
        return text
    head = text[:end]
    cut = head.rsplit(" ", 1)[0] if " " in head else head
    return cut.rstrip(" ,;:-")


def pause(stop: threading.Event, seconds: float) -> bool:
    """Wait about `seconds` (jitter only lengthens it, so a vendor's minimum holds); True if `stop` was set."""
    return stop.wait(seconds * (1 + 0.2 * random.random()))


@dataclass
class Flight:
    """A remote task this process is waiting on. `cancel(reason)` cancels it only if the vendor has not started it
    (so nothing is billed yet) and says whether it did; a started task is left to finish for the next run."""

    task_id: str
    vendor: str
    label: str  # e.g. "scene 3 clip"
    cancel: Callable[[str], bool]
    stop: threading.Event = field(default_factory=threading.Event)
    settled: threading.Event = field(default_factory=threading.Event)  # set once `cancel` has answered
    cancelled: bool = False

    def wait_settled(self) -> bool:
        """Whether the task was cancelled, once the thread stopping it knows (else False: left running)."""
        self.settled.wait(30)
        return self.cancelled


_FLIGHTS: dict[str, Flight] = {}
_FLIGHTS_LOCK = threading.Lock()
_atexit_registered = False


def stop_flights(flights: list[Flight], reason: str) -> None:
    """Stop waiting on `flights`, cancelling those not started yet; say which were left running and why."""
    left = []
    for flight in flights:
        if flight.stop.is_set():  # already stopped (Ctrl-C, then the exit hook)
            continue
        flight.stop.set()  # first, so a poll that sees the cancellation knows it was ours
        try:
            flight.cancelled = flight.cancel(reason)
        finally:
            flight.settled.set()
        if not flight.cancelled:
            left.append(f"{flight.vendor} task {flight.task_id} ({flight.label})")
    if left:
        log.warning("Left running, as they may already be billed: %s; the next run of the same command collects "
                    "them without a new charge.", ", ".join(left))


def cancel_in_flight(reason: str = "the run was interrupted") -> list[str]:
    """Stop waiting on every remote task of this process (call it on Ctrl-C): tasks the vendor has not started are
    cancelled, started ones are left to finish and stay in the ledger for the next run; returns their ids."""
    with _FLIGHTS_LOCK:
        flights = list(_FLIGHTS.values())
    stop_flights(flights, reason)
    return [flight.task_id for flight in flights]


def track(flight: Flight) -> None:
    """Register a task being waited on, until `untrack`."""
    global _atexit_registered
    with _FLIGHTS_LOCK:
        _FLIGHTS[flight.task_id] = flight
        if not _atexit_registered:
            # Runs at interpreter exit before worker threads are joined, so a Ctrl-C that ends the process
            # stops the tasks its threads still wait on instead of hanging until they finish.
            register = getattr(threading, "_register_atexit", None)
            if register:
                try:
                    register(cancel_in_flight)
                except RuntimeError:
                    pass
            _atexit_registered = True


def untrack(task_id: str) -> None:
    with _FLIGHTS_LOCK:
        _FLIGHTS.pop(task_id, None)


def fetch(http: httpx.Client, url: str, dest: Path) -> str | None:
    """Stream `url` to `dest`; return what went wrong, or None."""
    try:
        with http.stream("GET", url, timeout=timeouts(DOWNLOAD_TIMEOUT)) as response:
            if response.status_code != 200:
                return f"HTTP {response.status_code}"
            expected = response.headers.get("content-length")
            encoded = response.headers.get("content-encoding", "identity") != "identity"
            got = 0
            with dest.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
                    got += len(chunk)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__} while downloading"
    if expected and not encoded and got != int(expected):
        return f"got {got} of {expected} bytes"
    return None if got else "an empty file"


def download_checked(http: httpx.Client, url: str | None, dest: Path, verify: Callable[[Path], None],
                     fresh_url: Callable[[str], str | None], tries: int = DOWNLOAD_TRIES) -> str | None:
    """Download `url` to `dest` and `verify` it, asking `fresh_url(problem)` for another URL before each retry.

    Returns None when `dest` holds a verified file, else the last problem (the caller says what to do).
    """
    problem = "no output URL"
    for attempt in range(1, tries + 1):
        if attempt > 1:
            url = fresh_url(problem)
        problem = fetch(http, url, dest) if url else "no output URL"
        if problem is None:
            try:
                verify(dest)
                return None
            except Unreadable as exc:
                problem = str(exc)
    return problem


def is_portrait_9_16(width: int, height: int) -> bool:
    """Whether a frame is 9:16 to within 1% (vendors round sizes to their encoders' blocks)."""
    return abs(width * 16 - height * 9) <= 0.01 * height * 9


def video_size(path: Path) -> tuple[int, int]:
    """The frame size of a video with at least one frame; raises Unreadable otherwise."""
    frames = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(frames)
        next(frames)
    except (RuntimeError, OSError, StopIteration) as exc:
        raise Unreadable("not a readable video") from exc
    finally:
        frames.close()
    return tuple(meta["size"])  # type: ignore[return-value]
