"""Training runs that are killed, signalled, refused or hit a fault: nothing outlives them, nothing is lost.

Every run here is a real `python -m metta.sf_integration.train` on test_sf_train's tiny map. Each carries a unique
marker in its environment, which all its processes inherit (Sample Factory's workers, the multiprocessing resource
tracker): that is how a test finds every process of a run, also after its main process is gone, and how the
finally blocks kill whatever a failing test leaves behind.
"""
import glob
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest

from conftest import ROOT, require
from test_sf_train import TINY

MARKER = "METTA_TEST_RUN"
WORKER_LINES = (r"LearnerWorker_p0\tpid (\d+)", r"InferenceWorker_p0-w0\tpid (\d+)", r"ROLLOUT worker 0\tpid (\d+)")
INJECT = os.path.join(ROOT, "tests", "inject")  # sitecustomize.py: an env that raises mid-episode


class Run:
    """A training run in the background, its output in ``<train_dir>/<experiment>-<n>.log``."""

    def __init__(self, train_dir, experiment, steps, *extra, env=None, prefix=(), preexec_fn=None, session=False):
        self.marker = uuid.uuid4().hex
        self.log = os.path.join(train_dir, f"{experiment}-{self.marker[:8]}.log")
        os.makedirs(train_dir, exist_ok=True)
        cmd = [*prefix, sys.executable, "-m", "metta.sf_integration.train", *TINY, f"--train_dir={train_dir}",
               f"--experiment={experiment}", f"--train_for_env_steps={steps}", *extra]
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(cmd, cwd=train_dir, stdout=out, stderr=subprocess.STDOUT,
                                         env={**os.environ, "PYTHONPATH": ROOT, MARKER: self.marker, **(env or {})},
                                         preexec_fn=preexec_fn, start_new_session=session)

    def output(self) -> str:
        with open(self.log, errors="replace") as fh:
            return fh.read()

    def wait_for(self, pattern: str, timeout: float = 120) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if m := re.search(pattern, self.output()):
                return m
            assert self.proc.poll() is None, f"the run ended ({self.proc.returncode}) before {pattern!r}:\n" \
                                             f"{self.output()[-3000:]}"
            time.sleep(0.2)
        raise AssertionError(f"no {pattern!r} within {timeout} s:\n{self.output()[-3000:]}")

    def wait_for_workers(self) -> list[int]:
        return [int(self.wait_for(p)[1]) for p in WORKER_LINES]

    def finish(self, timeout: float = 180) -> int:
        return self.proc.wait(timeout)

    def processes(self) -> list[int]:
        return marked(self.marker)

    def kill_all(self) -> None:
        for pid in [self.proc.pid, *self.processes()]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(10)


def marked(marker: str) -> list[int]:
    """Live (not zombie) processes whose environment carries ``marker``."""
    needle = f"{MARKER}={marker}".encode()
    out = []
    for d in glob.glob("/proc/[0-9]*"):
        try:
            with open(f"{d}/environ", "rb") as fh:
                if needle not in fh.read().split(b"\0"):
                    continue
            with open(f"{d}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        if stat[stat.rindex(b")") + 2:][:1] != b"Z":
            out.append(int(d[6:]))
    return out


def gone_within(run: Run, seconds: float) -> list[int]:
    """Poll until no process of ``run`` is left or ``seconds`` pass; the survivors."""
    deadline = time.monotonic() + seconds
    while (left := run.processes()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def checkpoints(exp_dir):
    return sorted(glob.glob(os.path.join(exp_dir, "checkpoint_p0", "checkpoint_*_*.pth")))


def env_steps(path):
    return int(re.search(r"checkpoint_\d+_(\d+)\.pth$", path)[1])


def digests(folder):
    from metta.hub.manifest import sha256_file

    return {os.path.relpath(os.path.join(root, f), folder): sha256_file(os.path.join(root, f))
            for root, _, files in os.walk(folder) for f in files}


def can_mount() -> bool:
    """Can this test make a private mount namespace and mount in it (root with CAP_SYS_ADMIN)?"""
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    """One experiment: run A holds it and is SIGKILLed; B, tried meanwhile, is refused; C takes A's stale lock
    over, trains, and is stopped with SIGTERM sent to its whole process group."""
    train_dir = str(tmp_path_factory.mktemp("faults") / "train_dir")
    exp_dir = os.path.join(train_dir, "held")
    a = Run(train_dir, "held", 10**9)
    c = None
    try:
        workers = a.wait_for_workers()
        b = subprocess.run([sys.executable, "-m", "metta.sf_integration.train", *TINY, f"--train_dir={train_dir}",
                            "--experiment=held", "--train_for_env_steps=1000"], capture_output=True, text=True,
                           timeout=120, env={**os.environ, "PYTHONPATH": ROOT})
        before_kill = a.processes()
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(10)
        survivors = gone_within(a, 10)
        before = checkpoints(exp_dir)
        c = Run(train_dir, "held", 10**9, session=True)
        c.wait_for(r"Updated weights for policy 0, policy_version [1-9]")  # the learner has trained
        os.killpg(c.proc.pid, signal.SIGTERM)  # to every process of the run, as a cluster's scheduler does
        c_code = c.finish(120)
        c_left = gone_within(c, 10)
        return dict(train_dir=train_dir, exp_dir=exp_dir, a=a, workers=workers, before_kill=before_kill,
                    survivors=survivors, b=b, before=before, c=c, c_code=c_code, c_left=c_left)
    finally:
        a.kill_all()
        if c is not None:
            c.kill_all()


@pytest.mark.slow
def test_sigkill_leaves_no_process_behind_within_10_s(killed):
    assert set(killed["workers"]) <= set(killed["before_kill"])  # learner, inference and rollout worker were up
    assert killed["survivors"] == [], f"alive 10 s after SIGKILL: {killed['survivors']}"


@pytest.mark.slow
def test_a_second_run_on_a_held_experiment_is_refused_naming_the_holder(killed):
    b = killed["b"]
    assert b.returncode == 2, b.stderr[-2000:]
    assert "another run is training this experiment" in b.stderr
    assert f"pid {killed['a'].proc.pid}" in b.stderr and os.path.join(killed["train_dir"], ".held.lock") in b.stderr
    assert "Traceback" not in b.stderr


@pytest.mark.slow
def test_a_stale_lock_is_taken_over_saying_so(killed):
    out = killed["c"].output()
    assert re.search(rf"stale lock of a run that is no longer running \(pid {killed['a'].proc.pid}\b", out), out[-3000:]


@pytest.mark.slow
def test_sigterm_to_the_process_group_saves_a_fresh_checkpoint_and_leaves_nothing(killed):
    out = killed["c"].output()
    assert killed["c_code"] == 128 + signal.SIGTERM, out[-3000:]
    assert "SIGTERM: saving a checkpoint and stopping" in out
    after = checkpoints(killed["exp_dir"])  # Sample Factory saves at the stop, and its learner once more
    assert killed["before"] == [] and after and env_steps(after[-1]) > 0, (killed["before"], after)
    assert f"Stopped by SIGTERM; latest checkpoint: {after[-1]}" in out
    assert killed["c_left"] == []
    assert not os.path.exists(os.path.join(killed["train_dir"], ".held.lock"))  # released


@pytest.mark.slow
def test_an_env_that_raises_mid_episode_stops_the_run_with_its_message(tmp_path):
    run = Run(str(tmp_path / "train_dir"), "raises", 10**9,
              env={"PYTHONPATH": f"{INJECT}{os.pathsep}{ROOT}", "METTA_TEST_STEP_FAILS_AT": "25"})
    try:
        code = run.finish(180)
        out = run.output()
        assert code == 1, out[-3000:]
        error = out.strip().splitlines()[-1]
        assert error.startswith("error: the run stopped: rollout worker 0 (pid ")
        assert "ValueError: attack.cost=5 sends energy below zero at step 25: energy must be >= 0" in error
        assert gone_within(run, 10) == []
    finally:
        run.kill_all()


def copy_experiment(killed, train_dir):
    os.makedirs(train_dir)
    shutil.copytree(killed["exp_dir"], os.path.join(train_dir, "held"))
    return os.path.join(train_dir, "held")


@pytest.mark.slow
def test_a_read_only_train_dir_is_a_clear_error_and_changes_nothing(killed, tmp_path):
    train_dir = str(tmp_path / "ro")
    exp = copy_experiment(killed, train_dir)
    before = digests(train_dir)
    if can_mount():  # root ignores permission bits: a read-only bind mount, in a mount namespace of its own
        prefix = ["unshare", "-m", "sh", "-c", 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"',
                  train_dir]
    elif os.geteuid() != 0:
        prefix = []
        for root, dirs, _ in os.walk(train_dir):
            os.chmod(root, 0o555)
    else:
        require("mount namespace", False, "root ignores permission bits, so the read-only train_dir is a read-only "
                "bind mount in a private mount namespace: `unshare -m` and mount need CAP_SYS_ADMIN (a container "
                "needs --privileged or --cap-add SYS_ADMIN)")
    run = Run(str(tmp_path / "logs"), "held", 10**9, f"--train_dir={train_dir}", prefix=prefix)
    try:
        code = run.finish(120)
        out = run.output()
        assert code == 1, out[-3000:]
        assert f"error: {train_dir}: cannot write the run's lock .held.lock there (" in out
        assert "Traceback" not in out
        assert digests(train_dir) == before and checkpoints(exp)
    finally:
        run.kill_all()
        for root, dirs, _ in os.walk(train_dir):
            os.chmod(root, 0o755)


def strace_kill_at_second_write(pid: int, path: str, log: str):
    """Attach strace to ``pid``: the kernel kills it (SIGKILL) at its second write into ``path``. Returns the tracer
    and None, or None and why strace cannot trace here."""
    if not shutil.which("strace"):
        return None, "strace is not installed (Debian's strace)"
    with open(log, "w") as err:
        tracer = subprocess.Popen(["strace", "-f", "-p", str(pid), "-o", os.devnull, "-P", path, "-e",
                                   "trace=write,writev", "-e", "inject=write,writev:signal=SIGKILL:when=2"],
                                  stderr=err)
    deadline = time.monotonic() + 30
    while "attached" not in open(log).read():
        if tracer.poll() is not None or time.monotonic() > deadline:
            tracer.kill()
            return None, f"strace could not attach to the learner (ptrace not permitted?): {open(log).read()[-500:]}"
        time.sleep(0.1)
    return tracer, None


@pytest.fixture(scope="module")
def torn(killed, tmp_path_factory):
    """A copy of the experiment whose learner was killed in the middle of writing a checkpoint: for real, by strace,
    where it can trace; otherwise what such a kill leaves is made by hand (the first bytes of a checkpoint)."""
    tmp = tmp_path_factory.mktemp("torn")
    train_dir = str(tmp / "train_dir")
    exp = copy_experiment(killed, train_dir)
    before = digests(os.path.join(exp, "checkpoint_p0"))
    temp = os.path.join(exp, "checkpoint_p0", "checkpoint_temp")
    run = Run(train_dir, "held", 10**9, "--save_every_sec=2")  # Sample Factory saves every 2 s
    tracer = None
    try:
        learner = run.wait_for_workers()[0]
        tracer, why = strace_kill_at_second_write(learner, temp, str(tmp / "strace.log"))
        if tracer is None:
            run.kill_all()
            good = checkpoints(exp)[-1]
            with open(good, "rb") as src, open(temp, "wb") as dst:
                dst.write(src.read(os.path.getsize(good) // 3))
            return dict(train_dir=train_dir, exp=exp, good=good, temp=temp, real=False, why=why)
        code = run.finish(120)
        after = digests(os.path.join(exp, "checkpoint_p0"))
        return dict(train_dir=train_dir, exp=exp, good=checkpoints(exp)[-1], temp=temp, real=True, run=run,
                    code=code, learner=learner, left=gone_within(run, 10), before=before, after=after)
    finally:
        if tracer is not None and tracer.poll() is None:
            tracer.kill()
        run.kill_all()


@pytest.mark.slow
def test_a_kill_in_the_middle_of_a_checkpoint_write_stops_the_run_and_keeps_the_last_checkpoint(torn):
    require("strace", torn["real"], f"{torn.get('why')}: it kills the learner in the middle of a checkpoint write "
            "(without it the torn checkpoint the next test resumes from is made by hand)")
    out = torn["run"].output()
    assert torn["code"] == 1, out[-3000:]
    assert f"error: the run stopped: the learner (pid {torn['learner']}) was killed by SIGKILL" in out
    assert 0 < os.path.getsize(torn["temp"]) < os.path.getsize(torn["good"])  # the half-written file a kill leaves
    assert all(torn["after"].get(name) == digest for name, digest in torn["before"].items())  # all intact
    assert torn["left"] == []


@pytest.mark.slow
def test_a_resume_after_a_torn_write_onto_a_full_disk(torn, tmp_path):
    """The next run moves the half-written checkpoint aside and resumes from the last good one, loudly; its own
    checkpoint then finds the disk full: a clear error, and the checkpoints already there are left as they were."""
    src, good, temp = torn["train_dir"], torn["good"], torn["temp"]
    before = {k: v for k, v in digests(os.path.dirname(good)).items() if k != "checkpoint_temp"}
    train_dir, out_dir = str(tmp_path / "full"), str(tmp_path / "after")
    os.makedirs(train_dir)
    if can_mount():  # a tmpfs with room for the experiment and its logs, not for another checkpoint
        size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(src) for f in fs) + (1 << 20)
        script = (f'mount -t tmpfs -o size={size} tmpfs "$0" && cp -a {src}/. "$0"/ && "$@"; code=$?; '
                  f'cp -a "$0"/. {out_dir}/; exit $code')
        prefix, preexec = ["unshare", "-m", "sh", "-c", script, train_dir], None
        os.makedirs(out_dir)
    else:  # no mount: the file size limit fails the same write (EFBIG instead of ENOSPC)
        shutil.copytree(src, train_dir, dirs_exist_ok=True)
        out_dir, prefix = train_dir, []

        def preexec():
            resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
    run = Run(str(tmp_path / "logs"), "held", env_steps(good) + 1, f"--train_dir={train_dir}", prefix=prefix,
              preexec_fn=preexec)
    try:
        code = run.finish(180)
        out = run.output().replace(train_dir, src)  # the paths the run saw, in the copy it ran on
        assert (f"{temp}: not a readable checkpoint" in out
                and f"resuming from the previous good checkpoint {good}" in out), out[-3000:]
        assert f"env_steps={env_steps(good)}" in out and "starting from scratch" not in out.lower()
        assert code == 1, out[-3000:]
        error = out.strip().splitlines()[-1]
        assert error.startswith("error: the run stopped: the learner (pid ") and "could not write a checkpoint" in error
        assert "no space left on the device" in error or "the file size limit (ulimit -f)" in error
        assert "removed the half-written checkpoint_temp" in error and "checkpoints already there are intact" in error
        folder = os.path.join(out_dir, "held", "checkpoint_p0")
        assert {k: v for k, v in digests(folder).items() if not k.startswith("corrupted")} == before
        assert os.path.isfile(os.path.join(folder, "corrupted", "checkpoint_temp"))  # moved aside, kept
        assert gone_within(run, 10) == []
    finally:
        run.kill_all()


def test_fault_reports_of_killed_runs_are_removed_by_the_next_run(tmp_path, monkeypatch):
    import tempfile

    from metta.sf_integration.supervisor import FAULTS_ENV, fault_reports

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale, live = tmp_path / f"metta-run-{dead.pid}-x", tmp_path / f"metta-run-{os.getpid()}-y"
    stale.mkdir()
    live.mkdir()
    with fault_reports() as folder:
        assert os.environ[FAULTS_ENV] == folder and os.path.isdir(folder)
        assert not stale.exists() and live.exists()
    assert not os.path.exists(folder) and FAULTS_ENV not in os.environ


def test_an_experiment_directory_with_a_glob_character_is_refused_before_anything_is_written(tmp_path):
    # Sample Factory finds checkpoints with a pattern under the experiment directory: with "[" it would find none
    # and a resume would silently start over
    from metta.errors import ConfigError
    from metta.sf_integration.train import parse_args

    with pytest.raises(ConfigError, match=r"\[run1\] holds a glob character"):
        parse_args(["--env=metta-teams", f"--train_dir={tmp_path}", "--experiment=[run1]"])
    assert os.listdir(tmp_path) == []


def test_checkpoint_paths_take_the_experiment_directory_literally(tmp_path):
    from metta.sf_integration.checkpoints import checkpoint_paths

    exp = tmp_path / "sweep[a=1]"
    (exp / "checkpoint_p0").mkdir(parents=True)
    for name in ("checkpoint_000000002_20.pth", "checkpoint_000000001_10.pth"):
        (exp / "checkpoint_p0" / name).write_bytes(b"")
    assert [os.path.basename(p) for p in checkpoint_paths(str(exp))] == \
        ["checkpoint_000000001_10.pth", "checkpoint_000000002_20.pth"]
