"""Sweeps through a real Slurm cluster: Debian's slurmctld, slurmd and munged on this machine
(devops/slurm_cluster.sh), a 2-point x 1-seed sweep submitted with sbatch, one job cancelled with scancel mid-run,
the sweep rerun, and its report checked against the runs' own stats.json."""
import glob
import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import ROOT, require
from test_learning_bench import TINY
from test_sweep import recompute

pytestmark = pytest.mark.slow  # a Slurm cluster, and training through it

SCRIPT = os.path.join(ROOT, "devops", "slurm_cluster.sh")
BUDGET = 40_000  # agent-steps: about 40 s of training per job, so the cancel lands mid-run
RUNS = ("team_reward_0_seed_0", "team_reward_1_seed_0")


def cluster(command, state):
    return subprocess.run(["bash", SCRIPT, command, str(state)], capture_output=True, text=True, timeout=180)


def daemons(state):
    """The cluster's daemons and job steps still alive (by their command line, which names the state dir)."""
    out = subprocess.run(["pgrep", "-af", "munged|slurmctld|slurmd|slurmstepd"], capture_output=True, text=True)
    return [line for line in out.stdout.splitlines() if str(state) in line or "slurmstepd" in line]


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    state = tmp_path_factory.mktemp("slurm_cluster")
    started = cluster("start", state)  # installs Debian's slurm-wlm and munge when missing and root
    require("Slurm", started.returncode != 3, f"a one-node cluster on this machine: {started.stderr.strip()}")
    assert started.returncode == 0, started.stderr
    conf = started.stdout.strip().rpartition("SLURM_CONF=")[2]
    assert os.path.isfile(conf)
    yield {"SLURM_CONF": conf}
    stopped = cluster("stop", state)
    assert stopped.returncode == 0, stopped.stderr
    assert daemons(state) == []  # no daemon and no job left behind
    assert not os.path.exists(state)


def squeue(env):
    out = subprocess.run(["squeue", "-h", "-o", "%i %j %T"], capture_output=True, text=True, env={**os.environ, **env})
    return [line.split() for line in out.stdout.splitlines()]


def sweep(train_dir, env, *args):
    cmd = [sys.executable, "-m", "metta.experiments.sweep", "onslurm", "--grid", "team_reward=0,1", "--seeds", "1",
           f"--env_steps={BUDGET}", "--episodes", "2", "--eval_max_steps", "30", "--train_dir", str(train_dir),
           "--backend", "slurm", "--slurm_cpus_per_job", "1", "--slurm_poll", "1", *args, "--", *TINY]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600,
                          env={**os.environ, "PYTHONPATH": ROOT, **env})


def wait_for(predicate, what, timeout=300):
    end = time.monotonic() + timeout  # a bounded wait for an event, never a measured time
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"never happened: {what}")


def test_a_sweep_on_slurm_survives_a_cancelled_job_and_reports_the_runs_numbers(slurm, tmp_path):
    first = sweep(tmp_path, slurm, "--slurm_wait", "False")
    assert first.returncode == 0, first.stderr[-3000:]
    assert "queued on slurm" in first.stdout
    slurm_dir = tmp_path / "onslurm" / "slurm"
    jobs = json.loads((slurm_dir / "jobs.json").read_text())
    assert sorted(jobs) == sorted(RUNS)
    names = {name for _, name, _ in squeue(slurm)}
    assert names <= {f"onslurm.{r}" for r in RUNS} and names  # named after the sweep and the run

    # cancel the first run's job once it is training (Sample Factory reports its throughput)
    victim, other = RUNS
    log = tmp_path / "onslurm" / victim / "sf_log.txt"
    exit_file = slurm_dir / f"{victim}-{jobs[victim]['job_id']}.exit"

    def training():
        assert not exit_file.exists(), f"{victim} ended before it could be cancelled: raise BUDGET"
        return log.exists() and "Fps is" in log.read_text(errors="replace")

    wait_for(training, f"{victim} training")
    subprocess.run(["scancel", jobs[victim]["job_id"]], check=True, env={**os.environ, **slurm})
    wait_for(lambda: all(j != jobs[victim]["job_id"] for j, _, _ in squeue(slurm)), f"job of {victim} gone")
    assert exit_file.read_text().strip() == "143"
    checkpoints = glob.glob(str(tmp_path / "onslurm" / victim / "checkpoint_p0" / "*"))
    saved = [int(m) for m in re.findall(r"checkpoint_\d+_(\d+)\.pth", " ".join(checkpoints))]
    assert saved and max(saved) < BUDGET  # cancelled mid-run, its checkpoint saved on SIGTERM

    # the rerun waits for the other job, resubmits the cancelled run, which resumes, then evaluates and reports
    second = sweep(tmp_path, slurm)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    rejobs = json.loads((slurm_dir / "jobs.json").read_text())
    assert rejobs[victim]["job_id"] != jobs[victim]["job_id"]
    assert rejobs[other]["job_id"] == jobs[other]["job_id"]  # live or done: never submitted twice
    for run in RUNS:
        assert (slurm_dir / f"{run}-{rejobs[run]['job_id']}.exit").read_text().strip() == "0"
    assert "Resuming" in open(rejobs[victim]["log"], errors="replace").read()
    results = json.loads((tmp_path / "onslurm" / "results.json").read_text())
    for point in results["summary"]:
        (run,) = point["runs"]
        stats = json.loads((tmp_path / "onslurm" / run / "eval" / "stats.json").read_text())
        episodes = recompute(stats)
        for metric in ("hearts", "diamonds_harvested", "reward"):
            assert point["metrics"][metric]["mean"] == pytest.approx(np.mean([e[metric] for e in episodes]),
                                                                     abs=1e-12)
    assert squeue(slurm) == []
