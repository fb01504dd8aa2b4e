"""Where a training run's CPU goes: ``python -m metta.bench.training.train_profile [--json] [-- TRAIN FLAGS]``.

Trains with ``python -m metta.sf_integration.train --env=metta-teams`` (flags after ``--`` are added) for
``--seconds`` in a temporary directory. After ``--warmup`` seconds it samples every process of the run with py-spy
(``py-spy record --subprocesses --threads``, active threads only) for ``--duration`` seconds, and reads each
process's CPU time from ``/proc/<pid>/stat`` at both ends of that window. Each process's CPU seconds are then split
among what its sampled Python stacks were doing (``CATEGORIES``: the learner's forward, backward, observation
normalisation and optimiser; inference; the env's Griddly step, render and windows; Sample Factory's buffers and
queues). The CPU a process spends in native threads Python cannot see (torch's intra-op threads) is split in the
same proportions. What is left of the machine's cores over the window is idle.

Needs py-spy (``pip install py-spy``; the test extra has it) and permission to read other processes' memory (root,
or ``kernel.yama.ptrace_scope=0``). ``parse_raw`` and ``split`` work on a saved raw profile (``--raw PATH`` keeps
it).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from metta.runtime.lifetime import adopt_children
from metta.bench.training.soak import descendants

# role -> (category, stack frames that put a sample in it), first match wins; a sample that matches none is
# the role's event loop: queues, signals and IPC between Sample Factory's processes
CATEGORIES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "learner": (
        ("observation normalisation", ("Learner._prepare_and_normalize_obs",)),
        ("backward", ("Tensor.backward",)),
        ("optimiser step", ("Adam.step", "clip_grad_norm_", "Optimizer.")),
        ("forward (losses)", ("Learner._calculate_losses",)),
        ("batch preparation (values, GAE)", ("Learner._prepare_batch",)),
        ("other training", ("Learner.train",)),
    ),
    "inference": (
        ("observation normalisation", ("normalize_obs",)),
        ("weights from the learner", ("ensure_weights_updated",)),
        ("forward", ("ActorCriticSharedWeights.forward", "ActorCritic.forward", "Module._call_impl")),
    ),
    "rollout": (
        ("Griddly step", ("GriddlyEngine.step",)),
        ("Griddly global view", ("GriddlyEngine.global_view",)),
        ("observation windows", ("Windows.render",)),
        ("episode resets", ("reset_arrays", "MettaEnv.reset")),
        ("env: rules around the step (metrics, sharing, features)", ("MettaSFEnv.step",)),
        ("Sample Factory buffers", ("TensorDict", "advance_rollouts")),
    ),
    "runner": (),
}
OTHER = "queues, IPC and event loop"
# how each role shows in a stack (Sample Factory 2.1.1's classes)
ROLE_FRAMES = (("learner", "LearnerWorker"), ("inference", "InferenceWorker"), ("rollout", "RolloutWorker"),
               ("runner", "Runner.run"))
_PROCESS = re.compile(r"^process (\d+):")
_FPS = re.compile(r"Fps is \(10 sec: [\d.]+, 60 sec: ([\d.]+),")


def parse_raw(lines) -> dict[int, collections.Counter]:
    """py-spy's raw (collapsed) output with ``--subprocesses`` -> ``{pid: Counter(stack tuple of frame names)}``.

    A raw line is ``process P1:"cmd";process P2:"cmd";thread (T): name;frame (file:line);...;frame N``, the
    innermost process last; process and thread frames are dropped."""
    out: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
    for line in lines:
        line = line.rstrip("\n")
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        pid: int | None = None
        frames: list[str] = []
        for frame in stack.split(";"):
            m = _PROCESS.match(frame)
            if m:
                pid, frames = int(m[1]), []
            elif not frame.startswith("thread ("):  # --threads adds the thread as a frame: not code
                frames.append(frame.split(" (")[0])
        if pid is not None:
            out[pid][tuple(frames)] += int(count)
    return dict(out)


def role_of(stacks: collections.Counter) -> str | None:
    for role, frame in ROLE_FRAMES:
        if any(frame in f for stack in stacks for f in stack):
            return role
    return None


def categorise(role: str, stack: tuple[str, ...]) -> str:
    for category, frames in CATEGORIES.get(role, ()):
        if any(p in f for f in stack for p in frames):
            return category
    return OTHER


def split(stacks: dict[int, collections.Counter], cpu_seconds: dict[int, float]) -> dict[str, dict]:
    """Per role: its processes' CPU seconds and those seconds split in proportion to the active samples of each
    category. ``cpu_seconds``: each pid's CPU time over the sampled window."""
    out: dict[str, dict] = {}
    for pid, counter in stacks.items():
        role = role_of(counter)
        if role is None:
            continue
        total = sum(counter.values())
        by_cat: collections.Counter[str] = collections.Counter()
        for stack, n in counter.items():
            by_cat[categorise(role, stack)] += n
        entry = out.setdefault(role, {"processes": 0, "cpu_seconds": 0.0, "categories": collections.Counter()})
        cpu = cpu_seconds.get(pid, 0.0)
        entry["processes"] += 1
        entry["cpu_seconds"] += cpu
        for cat, n in by_cat.items():
            entry["categories"][cat] += cpu * n / total if total else 0.0
    for entry in out.values():
        entry["categories"] = dict(entry["categories"].most_common())
    return out


def cpu_times(pids) -> dict[int, float]:
    """CPU seconds (user + system, all threads) of each process so far; processes that ended are left out."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def fps_from_log(text: str) -> float | None:
    """Sample Factory's last 60-second agent-steps/s in a training log."""
    found = _FPS.findall(text)
    return float(found[-1]) if found else None


def profile(seconds: int, warmup: int, duration: int, rate: int, flags: list[str], raw_path: str | None) -> dict:
    py_spy = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(py_spy):
        raise SystemExit("error: py-spy is not installed: pip install py-spy")
    if warmup + duration >= seconds:
        raise SystemExit(f"error: --warmup ({warmup}) + --duration ({duration}) "
                         f"must be shorter than --seconds ({seconds})")
    train_dir = tempfile.mkdtemp(prefix="metta_train_profile_")
    raw = raw_path or os.path.join(train_dir, "profile.raw")
    log_path = os.path.join(train_dir, "train.log")
    cmd = [sys.executable, "-m", "metta.sf_integration.train", "--env=metta-teams", f"--train_dir={train_dir}",
           "--experiment=profile", f"--train_for_seconds={seconds}", *flags]
    try:
        with open(log_path, "w") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
            try:
                time.sleep(warmup)
                if proc.poll() is not None:
                    raise SystemExit(f"error: training stopped early (exit {proc.returncode}); see {log_path}")
                before = cpu_times(descendants(proc.pid))
                spy = subprocess.run([py_spy, "record", "--subprocesses", "--threads", "--nonblocking",
                                      "--format", "raw", "-r", str(rate), "-d", str(duration),
                                      "-o", raw, "-p", str(proc.pid)],
                                     capture_output=True, text=True)
                after = cpu_times(descendants(proc.pid))
                if spy.returncode != 0:
                    raise SystemExit(f"error: py-spy failed: {spy.stderr.strip()[-500:]}")
                proc.wait()
            finally:
                if proc.poll() is None:
                    proc.terminate()
                    proc.wait()
        with open(log_path, errors="replace") as fh:
            fps = fps_from_log(fh.read())
        with open(raw) as fh:
            stacks = parse_raw(fh)
        cpu = {pid: after[pid] - before.get(pid, 0.0) for pid in after}
        roles = split(stacks, cpu)
        used = sum(r["cpu_seconds"] for r in roles.values())
        cores = os.cpu_count() or 1
        return {"command": cmd, "seconds": seconds, "warmup": warmup, "duration": duration, "cores": cores,
                "agent_steps_per_s": fps, "roles": roles, "cpu_seconds_used": used,
                "idle_cpu_seconds": max(0.0, cores * duration - used)}
    finally:
        if raw_path is None:
            shutil.rmtree(train_dir, ignore_errors=True)


def report(result: dict) -> str:
    total = result["cores"] * result["duration"]
    lines = [f"CPU over {result['duration']} s of a {result['seconds']} s run on {result['cores']} cores "
             f"({total} CPU-seconds); Sample Factory's 60 s agent-steps/s at the end: "
             f"{result['agent_steps_per_s'] or 0:,.0f}", "",
             f"{'process':11} {'what':58} {'CPU s':>7} {'share':>6}"]
    for role in ("learner", "inference", "rollout", "runner"):
        entry = result["roles"].get(role)
        if entry is None:
            continue
        name = f"{role} x{entry['processes']}" if entry["processes"] > 1 else role
        lines.append(f"{name:11} {'(all)':58} {entry['cpu_seconds']:7.1f} {entry['cpu_seconds'] / total:6.1%}")
        for cat, s in entry["categories"].items():
            lines.append(f"{'':11} {cat:58} {s:7.1f} {s / total:6.1%}")
    lines.append(f"{'idle':11} {'':58} {result['idle_cpu_seconds']:7.1f} {result['idle_cpu_seconds'] / total:6.1%}")
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    flags = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(prog="python -m metta.bench.training.train_profile",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=150, help="training run length (default 150)")
    ap.add_argument("--warmup", type=int, default=40, help="seconds before sampling starts (default 40)")
    ap.add_argument("--duration", type=int, default=90, help="seconds sampled (default 90)")
    ap.add_argument("--rate", type=int, default=50, help="py-spy samples per second (default 50)")
    ap.add_argument("--raw", default=None, metavar="PATH", help="keep py-spy's raw profile here")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    adopt_children()
    result = profile(args.seconds, args.warmup, args.duration, args.rate, flags, args.raw)
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
