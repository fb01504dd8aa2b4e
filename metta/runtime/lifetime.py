"""Processes that do not outlive the command that started them, and commands that stop cleanly on a signal.

A command that starts processes (``train``, ``evaluate``, the eval suite) calls ``adopt_children()``: it records
itself in the environment its children inherit (``METTA_PARENT=<pid>:<start time>``). Every process that starts
through a command's ``main`` (``run_command``), a Sample Factory worker (metta.sf_integration.supervisor) or a game
probe runs ``watch_parent()``: when it is a direct child of the recorded process it arranges to die with it,
then records itself for its own children, so grandchildren (a game probe started by a rollout worker) follow too.

On Linux the child asks the kernel for SIGKILL when its parent goes (``prctl(PR_SET_PDEATHSIG)``): no Python
code has to run, so a worker stuck in C code holding the GIL dies too. The kernel sends that signal when the
*thread* that started the child ends, not only the process, and Sample Factory starts its rollout and inference
workers from a thread pool that ends at once: such a child first asks for a real-time signal of its own, whose
handler tells its parent's death (it kills the process) from its thread's, and moves to SIGKILL once it hangs on
the parent's main thread.
Without ``prctl`` a thread polls ``getppid()`` every second instead. A child whose parent died before it got that far
(it is already someone else's child when it looks) exits at once. Processes with no recorded parent (a shell's, a
notebook's) are left alone: a run started under ``nohup`` keeps running.

``StopSignals`` turns SIGINT, SIGTERM and SIGHUP into a clean stop: an ``Interrupted`` exception (exit status
128 + signal) by default, or, while a run has ``deferred`` them, a request to that run to save and stop, the
second signal then ending it without waiting. ``run_command`` is a command's ``main`` around both.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Callable

from metta.errors import DATA_EXIT, USAGE_EXIT, ConfigError, UsageError

PARENT_ENV = "METTA_PARENT"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1
_PARENT_GONE = getattr(signal, "SIGRTMIN", 34) + 5  # a real-time signal nothing else here uses (glibc keeps +0..+2)


def start_time(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (``/proc/<pid>/stat``, field 22); None when there is
    no such process or no ``/proc``. Two processes with the same pid and start time are the same process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    return int(stat[stat.rindex(b")") + 2:].split()[19])


def is_running(pid: int, started: int | None = None) -> bool:
    """Is process ``pid`` alive, and, when ``started`` is given and ``/proc`` tells, the one that started then?"""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, somebody else's
    now = start_time(pid)
    return started is None or now is None or now == started


def process_record(pid: int | None = None) -> str:
    """``<pid>:<start time>`` of a process (this one by default)."""
    pid = os.getpid() if pid is None else pid
    started = start_time(pid)
    return f"{pid}:{'' if started is None else started}"


def parse_record(text: str) -> tuple[int, int | None]:
    pid, _, started = text.partition(":")
    return int(pid), int(started) if started else None


def adopt_children() -> None:
    """Processes this one starts from now on die with it (when they import ``metta``; see the module docstring)."""
    os.environ[PARENT_ENV] = process_record()


def _die(reason: str) -> None:
    try:
        sys.stderr.write(f"metta: process {os.getpid()} exits: {reason}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os.kill(os.getpid(), signal.SIGKILL)


def _poll_parent(parent: int) -> None:
    def run():
        while True:
            threading.Event().wait(1.0)
            if os.getppid() != parent:
                _die(f"its parent {parent} is gone")

    threading.Thread(target=run, name="metta-watch-parent", daemon=True).start()


def _started_by_main_thread(parent: int) -> bool:
    """Is this process a child of ``parent``'s main thread (``/proc/<pid>/task/<tid>/children``)?"""
    try:
        with open(f"/proc/{parent}/task/{parent}/children", encoding="ascii") as fh:
            return str(os.getpid()) in fh.read().split()
    except OSError:
        return False


def _arm_death_signal(parent: int) -> bool:
    """Ask the kernel for a signal when the parent goes; False where that is not available.

    SIGKILL once this process hangs on the parent's main thread (whose end is the process's end): no Python code
    has to run, so a worker stuck in C code holding the GIL dies too. Until then (a pool thread started it) a
    real-time signal, whose handler tells the parent's death from its thread's and, after the latter, moves to
    SIGKILL."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl

        def upgrade() -> None:
            if _started_by_main_thread(parent):
                prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)

        def on_parent_gone(signum, frame):
            if os.getppid() != parent:
                _die(f"its parent {parent} is gone")
            upgrade()  # the thread that started this process ended: it now hangs on another of the parent's

        previous = signal.signal(_PARENT_GONE, on_parent_gone)  # only from the main thread: ValueError elsewhere
        if prctl(_PR_SET_PDEATHSIG, _PARENT_GONE, 0, 0, 0) != 0:
            signal.signal(_PARENT_GONE, previous)
            return False
        upgrade()  # after the signal is armed, so that a thread ending in between is not missed
    except (OSError, AttributeError, ValueError):
        return False
    return True


def watch_parent() -> bool:
    """Die with the process recorded by ``adopt_children`` when this is its direct child; True when armed."""
    recorded = os.environ.get(PARENT_ENV)
    if not recorded:
        return False
    try:
        parent, started = parse_record(recorded)
    except ValueError:
        return False
    if os.getppid() != parent:
        if not is_running(parent, started):
            _die(f"its parent {parent} died before it started")
        return False  # a grandchild through some other program: that program is its parent, not ours to watch
    if not _arm_death_signal(parent):
        _poll_parent(parent)
    if os.getppid() != parent:  # the parent died while we armed
        _die(f"its parent {parent} is gone")
    adopt_children()
    return True


def exit_description(code: int) -> str:
    """How a child process ended, from its exit code (negative: the signal that killed it)."""
    if code < 0:
        name = signal.Signals(-code).name
        return f"was killed by {name}" + (" (the out-of-memory killer, or a user?)" if -code == signal.SIGKILL else "")
    return f"exited with status {code}"


class Interrupted(BaseException):
    """A stop signal arrived: unwind (``finally`` blocks run, partial files are removed) and exit 128 + signal.

    A BaseException, like KeyboardInterrupt, so that ``except Exception`` does not swallow it."""

    def __init__(self, signum: int):
        self.signum = int(signum)
        super().__init__(signal.Signals(self.signum).name)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class StopSignals:
    """SIGINT, SIGTERM and SIGHUP as requests to stop (a context manager; handlers restored on exit).

    By default a signal raises ``Interrupted``. Inside ``deferred(request)`` the first signal calls
    ``request(signum)`` instead (it should only set a flag: it runs inside a signal handler) and a second raises
    ``Interrupted``."""

    def __init__(self):
        self.received: list[int] = []
        self._request = None
        self._previous = {}

    def __enter__(self):
        for sig in STOP_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()

    @property
    def first(self) -> int | None:
        return self.received[0] if self.received else None

    def _handle(self, signum, frame):
        self.received.append(signum)
        if self._request is None or len(self.received) > 1:
            raise Interrupted(signum)
        self._request(signum)

    @contextmanager
    def deferred(self, request):
        if self.received:  # a signal arrived before the run could take it
            raise Interrupted(self.received[0])
        self._request = request
        try:
            yield self
        finally:
            self._request = None


def run_command(body: Callable[[StopSignals], int | None],
                errors: dict[type[BaseException], int] | None = None) -> int:
    """A command's exit status: ``body(stops)``'s (0 for None), with its children bound to it (``adopt_children``)
    and stop signals handled (``StopSignals``). An exception of a type in ``errors`` (default: ConfigError, status
    1; UsageError, status 2: metta.errors) is printed as ``error: <message>``, a stop signal as
    ``stopped by <signal>``; neither as a traceback."""
    errors = {UsageError: USAGE_EXIT, ConfigError: DATA_EXIT, **(errors or {})}
    watch_parent()  # a command started by another metta command dies with it
    adopt_children()
    try:
        with StopSignals() as stops:
            return body(stops) or 0
    except Interrupted as sig:
        print(f"stopped by {sig.name}", file=sys.stderr)
        return sig.exit_code
    except tuple(errors) as err:
        print(f"error: {err}", file=sys.stderr)
        return next(code for kind, code in errors.items() if isinstance(err, kind))
