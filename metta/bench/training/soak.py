"""Memory of every process of a training run over its length.

    python -m metta.bench.training.soak [--minutes 20] [--every 30] [--warmup 60] [--json] [--train_dir DIR]
                                        [--experiment soak] [-- TRAIN FLAGS]

trains with ``python -m metta.sf_integration.train --env=metta-teams`` (``make train``'s command; flags after ``--``
are added to it) for ``--minutes`` and reads the resident set size of each of the run's processes every
``--every`` seconds: the runner (the main process), the learner, the inference worker, each rollout worker and
multiprocessing's resource tracker. Roles come from the pid lines Sample Factory logs as each worker starts.
Per process: the RSS at the first reading ``--warmup`` seconds after every worker has started (the baseline: the
model, the buffers and the envs are built by then), at the end and at most, the growth in percent, and the slope of
the second half of the readings in MB per minute (a leak keeps one). Without ``--train_dir`` the run trains a fresh
experiment in a temporary directory, removed afterwards; its log is kept beside the report when ``--train_dir`` is
given. The env alone over a million steps: ``python -m metta.bench.soak``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from tqdm import tqdm

from metta.runtime.lifetime import Interrupted, StopSignals, adopt_children
from metta.bench.soak import growth, rss_bytes

ROLE_LINES = ((re.compile(r"LearnerWorker_p(\d+)\tpid (\d+)"), lambda m: "learner"
               + (f" p{m[1]}" if m[1] != "0" else "")),
              (re.compile(r"InferenceWorker_p(\d+)-w(\d+)\tpid (\d+)"), lambda m: f"inference worker {m[2]}"
               + (f" p{m[1]}" if m[1] != "0" else "")),
              (re.compile(r"ROLLOUT worker (\d+)\tpid (\d+)"), lambda m: f"rollout worker {m[1]}"))


def roles_from_log(text: str) -> dict[int, str]:
    """``{pid: role}`` of the workers whose start a training run's output shows."""
    roles = {}
    for pattern, name in ROLE_LINES:
        for m in pattern.finditer(text):
            last = m.lastindex
            assert last is not None  # every pattern has groups, its last one the pid
            roles[int(m[last])] = name(m)
    return roles


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (``/proc/<pid>/task/<tid>/children``)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{p}/task/{tid}/children", encoding="ascii") as fh:
                    todo.extend(int(c) for c in fh.read().split())
            except OSError:
                pass
    return out


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""


def role(pid: int, main: int, roles: dict[int, str], command: str) -> str:
    """What a process of the run is: the runner, a worker (from the log), the resource tracker, or its command."""
    if pid == main:
        return "runner"
    if pid in roles:
        return roles[pid]
    if "resource_tracker" in command:
        return "resource tracker"
    if "multiprocessing.spawn" in command:
        return "spawned process"  # e.g. Sample Factory's short-lived env-info process
    return command.split(" ")[0].rsplit("/", 1)[-1] or f"pid {pid}"


class Readings:
    """RSS readings of a training run's processes, with what each process is."""

    def __init__(self, main: int, log_path: str):
        self.main, self.log_path = main, log_path
        self.series: dict[int, list[tuple[float, float]]] = {}
        self.commands: dict[int, str] = {}
        self.roles: dict[int, str] = {}
        self.started: float | None = None  # when every worker had started: the warm-up counts from there

    def read_roles(self) -> None:
        with open(self.log_path, errors="replace") as fh:
            self.roles.update(roles_from_log(fh.read()))

    def take(self, t: float) -> None:
        if self.started is None:
            self.read_roles()
            if {r.split(" ")[0] for r in self.roles.values()} >= {"learner", "inference", "rollout"}:
                self.started = t
        for pid in descendants(self.main):
            try:
                self.series.setdefault(pid, []).append((t, rss_bytes(pid) / 2**20))
            except OSError:
                continue  # it ended between the listing and the reading
            self.commands.setdefault(pid, cmdline(pid))

    def stopping_at(self) -> float | None:
        """The first reading a worker is missing from: the run's stop; what comes after is its shutdown."""
        first_gone = min((self.series[pid][-1][0] for pid in self.roles if pid in self.series), default=None)
        times = sorted({t for points in self.series.values() for t, _ in points})
        return next((t for t in times if first_gone is not None and t > first_gone), None)

    def summary(self, warmup: float) -> list[dict]:
        stop, out = self.stopping_at(), []
        for pid, points in self.series.items():
            running = [p for p in points if stop is None or p[0] < stop] or points[:1]
            settled = [p for p in running if p[0] >= (self.started or 0) + warmup] or running[-1:]
            command = self.commands.get(pid, "")
            out.append({"role": role(pid, self.main, self.roles, command), "pid": pid, "command": command,
                        "readings": len(points), "baseline_at_s": round(settled[0][0], 1),
                        **growth([t / 60 for t, _ in settled], [mb for _, mb in settled]),
                        "samples": [[round(t, 1), round(mb, 2)] for t, mb in points]})
        return sorted(out, key=lambda p: (p["role"] != "runner", p["role"]))


def soak(minutes: float = 20, every: float = 30, warmup: float = 60, train_dir: str | None = None,
         experiment: str = "soak", flags: list[str] | None = None, progress: bool = True) -> dict:
    from metta.sf_integration.checkpoints import trained_steps

    temp = None  # a directory of the soak's own, removed at its end
    if train_dir is None:
        train_dir = temp = tempfile.mkdtemp(prefix="metta-soak-")
    train_dir = os.path.abspath(train_dir)
    os.makedirs(train_dir, exist_ok=True)
    seconds = int(round(minutes * 60))
    cmd = [sys.executable, "-m", "metta.sf_integration.train", "--env=metta-teams", f"--train_dir={train_dir}",
           f"--experiment={experiment}", f"--train_for_seconds={seconds}", *(flags or [])]
    log_path = os.path.join(train_dir, f"{experiment}.soak.log")
    interrupted = None
    adopt_children()  # the run dies with the soak
    try:
        with open(log_path, "w") as log, StopSignals():
            # a session of its own: Ctrl-C reaches the soak alone, which passes one SIGTERM on (the run saves)
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            readings, t0 = Readings(proc.pid, log_path), time.monotonic()
            try:
                with tqdm(total=seconds, unit="s", desc="soak training", disable=not progress) as bar:
                    while proc.poll() is None:
                        t = time.monotonic() - t0
                        readings.take(t)
                        bar.update(min(seconds, int(t)) - bar.n)
                        while proc.poll() is None and time.monotonic() < t0 + t + every:
                            time.sleep(min(1.0, max(0.0, t0 + t + every - time.monotonic())))
            except Interrupted as sig:
                interrupted = sig.name
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(120)
                except subprocess.TimeoutExpired:
                    proc.kill()
            code = proc.wait()
        readings.read_roles()
        try:
            steps = trained_steps(os.path.join(train_dir, experiment))
        except Exception:  # noqa: BLE001 - the report stands without it
            steps = None
        return {"minutes": minutes, "every": every, "warmup": warmup, "workers_started_at_s": readings.started,
                "stopping_at_s": readings.stopping_at(), "command": cmd, "exit_code": code,
                "interrupted": interrupted, "agent_steps": steps, "log": None if temp else log_path,
                "processes": readings.summary(warmup)}
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    flags = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(prog="python -m metta.bench.training.soak", description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=20)
    ap.add_argument("--every", type=float, default=30, help="seconds between readings")
    ap.add_argument("--warmup", type=float, default=60,
                    help="seconds from the workers' start to the baseline reading")
    ap.add_argument("--train_dir", default=None, help="default: a temporary directory, removed afterwards")
    ap.add_argument("--experiment", default="soak")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args(argv)
    if not args.minutes > 0 or not args.every > 0:
        ap.error("--minutes and --every must be positive")
    result = soak(args.minutes, args.every, args.warmup, args.train_dir, args.experiment, flags,
                  progress=not args.json)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{'process':<20} {'pid':>7} {'readings':>8} {'baseline MB':>11} {'at s':>6} {'final MB':>9} "
              f"{'max MB':>8} {'growth':>8} {'MB/min':>7}")
        for p in result["processes"]:
            pct = "" if p["growth_percent"] is None else f"{p['growth_percent']:+.1f}%"
            slope = "" if p["tail_slope_mb"] is None else f"{p['tail_slope_mb']:+.2f}"
            print(f"{p['role']:<20} {p['pid']:>7} {p['readings']:>8} {p['baseline_mb']:>11.1f} "
                  f"{p['baseline_at_s']:>6.0f} {p['final_mb']:>9.1f} {p['max_mb']:>8.1f} {pct:>8} {slope:>7}")
        steps = result["agent_steps"]
        print(f"{result['minutes']:g} min of training ({steps:,} agent-steps), exit status {result['exit_code']}"
              if steps is not None else f"exit status {result['exit_code']}")
    if result["interrupted"]:
        return 128 + signal.Signals[result["interrupted"]]
    return 0 if result["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
