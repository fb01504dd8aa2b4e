"""A training run's processes watched from its main process: a worker that dies stops the run with its error.

Sample Factory 2.1.1 notices a dead learner, inference or rollout worker only through missing heartbeats, minutes
later, and then waits for it to acknowledge the stop, forever. Here:

- every worker of a run (``join_run``, from ``start_process`` as it builds its env or model) records the
  exception that ends it, as Sample Factory logs it, in ``METTA_RUN_FAULTS/<pid>.json`` (a temporary directory
  outside ``train_dir``, which may be the full or read-only disk); it ignores SIGTERM and SIGHUP, so that a
  signal sent to the whole process group (a cluster's scheduler, a closed terminal) reaches the main process's
  clean stop, not the workers one by one; and it dies with the main process (metta.runtime.lifetime);
- the main process's ``Supervisor`` looks at its workers four times a second: a worker that exits without
  being asked, or whose event loop died with an exception (a thread may keep such a process alive: it is killed),
  stops the run (with a checkpoint when the learner is still there), the stop does not wait for the dead, and
  the run ends with that worker's own error: an env's exception, or, when the learner could not write a
  checkpoint, what is wrong with the disk (full, read-only, a file size limit). The main process's own fatal
  error (TensorBoard's files on a full disk) is reported the same way;
- SIGINT, SIGTERM and SIGHUP (metta.runtime.lifetime.StopSignals) ask the run to save a checkpoint and stop; a second
  signal, or a stop that takes more than ``grace`` seconds, kills the workers.
"""
from __future__ import annotations

import glob
import json
import logging
import multiprocessing
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import traceback
from contextlib import contextmanager

from metta.runtime.files import WRITE_ERRNOS, write_problem
from metta.runtime.lifetime import exit_description
from metta.sf_integration.patches import apply as apply_patches, stop_training

FAULTS_ENV = "METTA_RUN_FAULTS"
# where a worker's fatal exception is logged: Sample Factory's log, which signal_slot's event loop also uses (an
# exception in a slot ends the process), and signal_slot's own before Sample Factory hands it its log
LOGGERS = ("rl", "signal_slot.signal_slot")
SAVE_SLOTS = ("save", "save_best", "save_milestone")


def is_worker() -> bool:
    """Is this a Sample Factory worker (a multiprocessing child) of a training run?"""
    return bool(os.environ.get(FAULTS_ENV)) and "--multiprocessing-fork" in getattr(sys, "orig_argv", sys.argv)


# how signal_slot logs the exception that ends an event loop (it re-raises it), and how Sample Factory's runner does
FATAL = re.compile(r"unhandled exception in slot='(\w+)'|Uncaught exception in")


class FaultRecorder(logging.Filter):
    """Writes the first exception that ends an event loop of this process to ``<faults>/<pid>.json``.

    A filter on the logger, not a handler: Sample Factory empties its log's handlers when it is imported."""

    def __init__(self, folder: str):
        super().__init__()
        self.folder = folder
        self.written = False

    def filter(self, record: logging.LogRecord) -> bool:
        if (not self.written and record.exc_info and record.exc_info[1] is not None
                and (fatal := FATAL.search(record.getMessage()))):
            self.written = True
            self._write(record, fatal[1])
        return True

    def _write(self, record: logging.LogRecord, slot: str | None) -> None:
        exc_info = record.exc_info
        assert exc_info is not None and exc_info[1] is not None  # filter writes only records with an exception
        err = exc_info[1]
        report = {"pid": os.getpid(), "process": multiprocessing.current_process().name,
                  "error": f"{type(err).__name__}: {err}", "slot": slot,
                  "errno": err.errno if isinstance(err, OSError) else None,
                  "traceback": "".join(traceback.format_exception(type(err), err, exc_info[2]))}
        try:
            from metta.runtime.files import write_json

            write_json(os.path.join(self.folder, f"{os.getpid()}.json"), report)
        except OSError:
            pass  # the report is a courtesy; the traceback is on stderr anyway


def record_faults(folder: str) -> FaultRecorder:
    """Record this process's fatal exception in ``folder`` (see FaultRecorder)."""
    recorder = FaultRecorder(folder)
    for name in LOGGERS:
        logging.getLogger(name).addFilter(recorder)
    return recorder


def _remove_stale_reports() -> None:
    """The directories of runs killed before they could remove theirs (``metta-run-<pid>-*``, that pid gone)."""
    from metta.runtime.lifetime import is_running

    for path in glob.glob(os.path.join(tempfile.gettempdir(), "metta-run-*-*")):
        pid = os.path.basename(path).split("-")[2]
        if pid.isdigit() and not is_running(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


@contextmanager
def fault_reports():
    """A run's directory of fault reports (temporary, outside train_dir), given to the workers it starts; this
    process records its own fatal error there too."""
    _remove_stale_reports()
    folder = tempfile.mkdtemp(prefix=f"metta-run-{os.getpid()}-")
    os.environ[FAULTS_ENV] = folder
    recorder = record_faults(folder)
    try:
        yield folder
    finally:
        for name in LOGGERS:
            logging.getLogger(name).removeFilter(recorder)
        os.environ.pop(FAULTS_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)


def quiet_logging_errors() -> None:
    """A log file on a full or read-only disk must not bury the run's own error under a traceback per line."""
    logging.raiseExceptions = False


def join_run() -> None:
    """In a worker of a training run: record its fatal error for the main process, leave stop signals to the main."""
    if not is_worker():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):  # Sample Factory already ignores SIGINT in its workers
        signal.signal(sig, signal.SIG_IGN)
    quiet_logging_errors()
    record_faults(os.environ[FAULTS_ENV])


_started = False


def start_process() -> None:
    """What a process of a training run does before its work, once: Sample Factory patched
    (metta.sf_integration.patches.apply) and, in a worker, dying with the run's main process (metta.runtime.lifetime)
    and reporting to it the error that ends it (``join_run``). The env and model factories call it, since every
    worker builds an env or a model before it does anything else; training's main process calls it as it starts."""
    global _started
    if _started:
        return
    from metta.runtime.lifetime import watch_parent

    apply_patches()
    watch_parent()  # a no-op unless this is the direct child of a process that adopted its children
    join_run()
    _started = True


def role(process_name: str) -> str:
    """``learner_proc0`` -> ``the learner``, ``rollout_proc1`` -> ``rollout worker 1``..."""
    if m := re.fullmatch(r"learner_proc(\d+)", process_name):
        return "the learner" + (f" of policy {m[1]}" if m[1] != "0" else "")
    if m := re.fullmatch(r"inference_proc(\d+)-(\d+)", process_name):
        return f"inference worker {m[2]}" + (f" of policy {m[1]}" if m[1] != "0" else "")
    if m := re.fullmatch(r"rollout_proc(\d+)", process_name):
        return f"rollout worker {m[1]}"
    return process_name


class Supervisor:
    """Watches a Sample Factory ParallelRunner's worker processes from its event loop (see the module docstring).

    Create it after ``runner.init()``; ``request_stop`` is safe to call from a signal handler."""

    def __init__(self, runner, exp_dir: str, faults_dir: str, grace: float = 60.0, interval: float = 0.25):
        from signal_slot.signal_slot import EventLoopObject, Timer

        class Watch(EventLoopObject):  # a slot on the runner's loop for the timer to call
            def check(watch):
                self.check()

        self.runner = runner
        self.exp_dir = exp_dir
        self.faults_dir = faults_dir
        self.grace = grace
        self.stop_signal: int | None = None
        self.failures: list[str] = []
        self._reported: set[int] = set()
        self._killed: set[int] = set()
        self._stopping = False
        self._deadline: threading.Timer | None = None
        self._watch = Watch(runner.event_loop, "metta_supervisor")
        self._timer = Timer(runner.event_loop, interval, object_id="metta_supervisor_timer")
        self._timer.timeout.connect(self._watch.check)

    def processes(self) -> list:
        return [*getattr(self.runner, "processes", ()), *getattr(self.runner.sampler, "processes", ())]  # none: serial

    def request_stop(self, signum: int) -> None:
        self.stop_signal = signum

    # ---------------------------------------------------------------- on the runner's event loop
    def check(self) -> None:
        from sample_factory.algo.utils.misc import ExperimentStatus
        from sample_factory.utils.utils import log

        runner = self.runner
        if self.stop_signal is not None and not self._stopping:
            log.warning("%s: saving a checkpoint and stopping (a second signal stops without saving)",
                        signal.Signals(self.stop_signal).name)
            self._stop(lambda: stop_training(runner))
        self.collect()
        if self.failures:
            if not runner.stopped:
                self._stop(lambda: stop_training(runner, failed=True))
            runner.status = ExperimentStatus.FAILURE
            self._forget_the_dead()

    def collect(self) -> None:
        """Record the workers that failed since the last look: those whose event loop died with an exception
        (killed now: a thread of theirs may keep the process alive), those that died, and those that ended unasked.
        Also called once the run is over (Sample Factory may end its loop on a dead worker before a look), when
        the main process's own fatal error is recorded too."""
        from sample_factory.utils.utils import log

        for p in self.processes():
            if not p.pid or p.pid in self._reported:
                continue
            code, fault = p.exitcode, self._fault(p.pid)
            if code is None and fault is None:
                continue
            self._reported.add(p.pid)
            if code == 0 and fault is None and self.runner.stopped:
                continue  # asked to stop, and did
            self.failures.append(self._failure(f"{role(p.name)} (pid {p.pid})", p.pid, code, fault))
            log.error("%s", self.failures[-1])
            if code is None:
                self._kill(p)

    def collect_main(self) -> None:
        """The main process's own fatal error (its event loop died): Sample Factory only logs it."""
        fault = self._fault(os.getpid())
        if fault is not None and os.getpid() not in self._reported:
            self._reported.add(os.getpid())
            self.failures.append(self._failure(f"the runner (pid {os.getpid()})", os.getpid(), None, fault))

    def _stop(self, stop) -> None:
        self._stopping = True
        stop()
        if self._deadline is None:
            self._deadline = threading.Timer(self.grace, self.kill_workers)
            self._deadline.daemon = True
            self._deadline.start()

    def _forget_the_dead(self) -> None:
        """Drop the components of dead processes from the runner's list of those it waits for (Sample Factory
        only drops those whose own process it can see, which the learner's batcher thread is not)."""
        runner = self.runner
        if not runner.stopped or not runner.components_to_stop:
            return
        alive = [c for c in runner.components_to_stop if (p := self._process_of(c)) is None or p.exitcode is None]
        if len(alive) < len(runner.components_to_stop):
            runner.components_to_stop = alive
            if not alive:
                runner.all_components_stopped.emit()

    def _process_of(self, component):
        process = getattr(component.event_loop, "process", None)
        if process is None and hasattr(component, "policy_id") and component.policy_id in self.runner.learners:
            process = self.runner.learners[component.policy_id].event_loop.process  # a batcher: the learner's thread
        return process

    # ---------------------------------------------------------------- reports
    def _fault(self, pid: int) -> dict | None:
        try:
            with open(os.path.join(self.faults_dir, f"{pid}.json"), encoding="utf-8") as fh:
                return json.load(fh)
        except (OSError, ValueError):
            return None

    def _failure(self, who: str, pid: int, code: int | None, fault: dict | None) -> str:
        if pid in self._killed and fault is None:
            return f"{who} did not stop within {self.grace:.0f} s of the stop; killed"
        if fault is None:
            assert code is not None  # collect only reports a process without a fault once it has exited
            return f"{who} {exit_description(code)}" + ("; its traceback is above" if code > 0 else "")
        if fault.get("slot") in SAVE_SLOTS:
            return self._save_failure(who, fault)
        if fault.get("errno") in WRITE_ERRNOS:
            return f"{who} could not write in {self.exp_dir}: {self._disk(self.exp_dir)} ({fault['error']}). " \
                   f"{self._kept()}"
        return f"{who} failed: {fault['error']}"

    def _needed(self) -> int:
        from metta.sf_integration.checkpoints import latest_checkpoint

        latest = latest_checkpoint(self.exp_dir)
        return os.path.getsize(latest) if latest else 1 << 20

    def _disk(self, folder: str) -> str:
        return write_problem(folder, self._needed()) or "see the error"

    def _kept(self) -> str:
        from metta.sf_integration.checkpoints import latest_checkpoint

        latest = latest_checkpoint(self.exp_dir)
        return (f"The checkpoints already there are intact (newest: {latest}); rerun the same command to resume "
                f"from it once that is fixed") if latest else "There was no earlier checkpoint"

    def _save_failure(self, who: str, fault: dict) -> str:
        folder = os.path.join(self.exp_dir, "checkpoint_p0")
        problem = self._disk(folder)
        removed = []
        for name in ("checkpoint_temp", "best_temp"):  # Sample Factory's half-written file
            path = os.path.join(folder, name)
            try:
                os.remove(path)
                removed.append(name)
            except OSError:
                pass
        return (f"{who} could not write a checkpoint in {folder}: {problem} ({fault['error']})"
                + (f"; removed the half-written {', '.join(removed)}" if removed else "") + f". {self._kept()}")

    def _kill(self, p) -> None:
        try:
            os.kill(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def kill_workers(self) -> None:
        for p in self.processes():
            if p.exitcode is None and p.pid:
                self._killed.add(p.pid)
                self._kill(p)

    def close(self) -> None:
        """Stop the deadline and kill any worker still alive: nothing outlives the run."""
        if self._deadline is not None:
            self._deadline.cancel()
        self.kill_workers()
        self._timer.stop()
