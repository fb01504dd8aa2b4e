"""One run per experiment: a lock file beside the experiment's directory.

``train_dir/.<experiment>.lock`` is held with ``fcntl.flock`` for as long as the run lives and names the holder:
its pid, start time (``/proc/<pid>/stat``, so a reused pid is not mistaken for it), host, command and when it
started. The kernel drops the flock when the holder dies however it dies, so a lock left behind by a killed run
is free to take; the run that takes it says whose it was. The pid check is a second line for filesystems where
flock does not lock: a holder still alive on this host under the same start time is never overridden.

The lock lives beside the experiment, not inside it, because Sample Factory's ``--restart_behavior=restart``
moves the experiment's directory aside and ``overwrite`` deletes it at start.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time

from metta.errors import ConfigError, UsageError
from metta.runtime.lifetime import is_running, start_time


class RunLockHeld(UsageError):
    """Another live run holds the experiment."""


def lock_path(exp_dir: str) -> str:
    head, tail = os.path.split(os.path.normpath(exp_dir))
    return os.path.join(head, f".{tail}.lock")


def _describe(holder: dict, command: bool = True) -> str:
    parts = [f"pid {holder.get('pid')}"]
    if holder.get("host") and holder["host"] != socket.gethostname():
        parts.append(f"on {holder['host']}")
    if holder.get("started_at"):
        parts.append(f"started {holder['started_at']}")
    if command and holder.get("command"):
        parts.append(f"`{holder['command']}`")
    return ", ".join(parts)


def _read(fd: int) -> dict:
    os.lseek(fd, 0, os.SEEK_SET)
    data = b""
    while chunk := os.read(fd, 65536):
        data += chunk
    try:
        holder = json.loads(data.decode("utf-8")) if data.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {"unreadable": data[:200].decode("utf-8", "replace")}
    return holder if isinstance(holder, dict) else {}


def _alive_here(holder: dict) -> bool:
    pid = holder.get("pid")
    return (isinstance(pid, int) and pid != os.getpid() and holder.get("host") == socket.gethostname()
            and is_running(pid, holder.get("start_time")))


class RunLock:
    """``with RunLock(exp_dir, warn=print):`` the experiment is this process's until the block ends."""

    def __init__(self, exp_dir: str, warn=print):
        self.exp_dir = exp_dir
        self.path = lock_path(exp_dir)
        self.warn = warn
        self._fd: int | None = None

    def acquire(self) -> "RunLock":
        folder = os.path.dirname(self.path) or "."
        try:
            os.makedirs(folder, exist_ok=True)
            return self._acquire()
        except RunLockHeld:
            raise
        except OSError as err:
            raise ConfigError(f"{folder}: cannot write the run's lock {os.path.basename(self.path)} there "
                              f"({err.strerror}); a run writes its lock, checkpoints and logs under --train_dir: "
                              f"make it writable or choose another") from None

    def _acquire(self) -> "RunLock":
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read(fd)
                os.close(fd)
                raise RunLockHeld(self._held_message(holder)) from None
            except BaseException:
                os.close(fd)
                raise
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # its holder removed it between our open and our lock: take the new one
                os.close(fd)
                continue
            break
        try:
            previous = _read(fd)
            if _alive_here(previous):
                raise RunLockHeld(self._held_message(previous))
            if previous:
                self.warn(f"{self.path}: stale lock of a run that is no longer running "
                          f"({_describe(previous, command=False)}); taking it over")
            record = {"pid": os.getpid(), "start_time": start_time(os.getpid()), "host": socket.gethostname(),
                      "started_at": time.strftime("%Y-%m-%d %H:%M:%S"),
                      "command": " ".join(getattr(sys, "orig_argv", sys.argv)),
                      "experiment": os.path.abspath(self.exp_dir)}
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, (json.dumps(record) + "\n").encode("utf-8"))
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def _held_message(self, holder: dict) -> str:
        pid = holder.get("pid")
        known = isinstance(pid, int) and (holder.get("host") != socket.gethostname()
                                          or is_running(pid, holder.get("start_time")))
        who = _describe(holder) if known else "a run that is taking the lock right now"
        return (f"{self.exp_dir}: another run is training this experiment ({who}); lock {self.path}. Wait for it to "
                f"finish, stop it (kill {holder.get('pid', '<pid>')}), or train under another --experiment")

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.remove(self.path)  # while still holding it: whoever opens the path next makes a new file
        except OSError:
            pass
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
