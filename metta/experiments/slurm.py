"""A sweep's runs as Slurm jobs: submitted with ``sbatch``, watched with ``squeue``, collected on rerun.

Everything lands in the sweep's Slurm directory (``--slurm_workdir``, default ``TRAIN_DIR/NAME/slurm``):

- ``sbatch_RUN.sh``: the run's job script, Sample Factory's template format (``$CMD``, ``$FILENAME``,
  ``$PARTITION``, ``$GPU``, ``$CPU``, ``$TIMEOUT``) around the run's command;
- ``RUN-JOBID.out``: the job's log (Slurm's ``--output``), and ``RUN-JOBID.exit``: the command's exit status, or
  ``143`` when the job was cancelled (``scancel`` sends SIGTERM, and training saves a checkpoint on it);
- ``jobs.json``: each run's latest job id, script and log.

A run that already has a job queued or running is not submitted again: rerunning the sweep collects it. A run whose
job ended without finishing its budget (cancelled, killed, failed) is submitted again, and training resumes it from
its checkpoint. ``wait_for`` polls ``squeue`` until none of the sweep's jobs is left, then ``report_jobs`` prints
each job's exit status and, for a failed one, its log's last lines.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from string import Template

from tqdm import tqdm

from metta.errors import ConfigError
from metta.runtime.files import read_json, write_json, write_text
from metta.runtime.lifetime import PARENT_ENV

JOBS_FILE = "jobs.json"
LIVE_STATES = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING", "STOPPED",
               "REQUEUE_HOLD", "REQUEUE_FED", "SIGNALING", "STAGE_OUT"}
LOG_TAIL = 15
# the job script around a run's command: it records the command's exit status beside the log, 143 when cancelled.
# The command runs in the background so that the trap fires as the signal arrives (bash runs a trap only once a
# foreground command ends): the status is on disk before the run's checkpoint, even if Slurm's KillWait ends both.
WRAPPER = """
EXIT_FILE="$${METTA_SLURM_DIR}/$${METTA_RUN}-$${SLURM_JOB_ID}.exit"
$CMD &
child=$$!
trap 'echo 143 > "$$EXIT_FILE"; wait "$$child"; exit 143' TERM
wait "$$child"
code=$$?
echo "$$code" > "$$EXIT_FILE"
exit "$$code"
"""


def _slurm(cmd: list[str]) -> subprocess.CompletedProcess:
    # a job outlives the command that submitted it: it must not inherit the parent record that makes a metta child
    # die with its parent (metta.runtime.lifetime), or it would exit at once once a --slurm_wait False sweep returns
    env = {k: v for k, v in os.environ.items() if k != PARENT_ENV}
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    except FileNotFoundError:
        raise ConfigError(f"{cmd[0]}: not found; --backend slurm needs Slurm's client commands (sbatch, squeue) on "
                          f"PATH and a cluster "
                          f"(bash devops/slurm_cluster.sh start makes one on this machine)") from None


def default_template(path: str) -> str:
    """This directory, this virtualenv's python first on PATH, then the run's command (``WRAPPER``)."""
    def dollars(text: str) -> str:
        return text.replace("$", "$$")

    write_text(path, "#!/bin/bash\n# written by metta.experiments.sweep; --slurm_sbatch_template replaces it\n"
                     f"cd {dollars(shlex.quote(os.getcwd()))} || exit 1\n"
                     f"export PATH={dollars(shlex.quote(os.path.dirname(sys.executable)))}:$$PATH\n$CMD\n")
    return path


def read_jobs(workdir: str) -> dict:
    path = os.path.join(workdir, JOBS_FILE)
    jobs = read_json(path, "Slurm job list") if os.path.exists(path) else {}
    if not isinstance(jobs, dict):
        raise ConfigError(f"{path}: expected a JSON object run -> job; move it aside to submit every run again")
    return jobs


def job_states(job_ids) -> dict[str, str]:
    """Slurm's state of each job it still knows as queued or running: ``{job id: state}``."""
    ids = [str(j) for j in job_ids]
    if not ids:
        return {}
    out = _slurm(["squeue", "-h", "-o", "%i %T", "-j", ",".join(ids)])
    if out.returncode != 0 and "Invalid job id" not in out.stderr:
        raise ConfigError(f"squeue failed (exit {out.returncode}): {out.stderr.strip()}")
    states = {}
    for line in out.stdout.splitlines():
        job, _, state = line.strip().partition(" ")
        if job in ids and state in LIVE_STATES:
            states[job] = state
    return states


def submit(runs: list[tuple[str, str]], sweep: str, cfg) -> dict:
    """Submit each ``(run name, command)`` of ``runs`` that has no live job; return the sweep's job list.

    ``cfg``: the launcher's flags (``slurm_workdir``, ``slurm_sbatch_template``, ``slurm_partition``,
    ``slurm_gpus_per_job``, ``slurm_cpus_per_job``, ``slurm_timeout``, ``slurm_print_only``)."""
    workdir = os.path.abspath(cfg.slurm_workdir)
    os.makedirs(workdir, exist_ok=True)
    with open(cfg.slurm_sbatch_template, encoding="utf-8") as f:
        template = f.read()
    jobs = read_jobs(workdir)
    live = {} if cfg.slurm_print_only else job_states(j["job_id"] for j in jobs.values() if "job_id" in j)
    gpus, cpus = cfg.slurm_gpus_per_job, cfg.slurm_cpus_per_job
    for name, cmd in runs:
        job = jobs.get(name, {})
        if str(job.get("job_id")) in live:
            print(f"{name}: job {job['job_id']} is {live[str(job['job_id'])].lower()}; not submitted again")
            continue
        script = os.path.join(workdir, f"sbatch_{name}.sh")
        wrapped = Template(WRAPPER).substitute(CMD=cmd).strip()  # the command, recording its exit status
        body = Template(template).substitute(CMD=wrapped, FILENAME=script, PARTITION=cfg.slurm_partition or "",
                                             GPU=gpus, CPU=cpus, TIMEOUT=cfg.slurm_timeout)
        write_text(script, f"{body.rstrip()}\n")
        os.chmod(script, 0o755)
        sbatch = ["sbatch", "--parsable", f"--job-name={sweep}.{name}", f"--output={workdir}/{name}-%j.out",
                  f"--cpus-per-task={cpus}", f"--export=ALL,METTA_SLURM_DIR={workdir},METTA_RUN={name}"]
        if cfg.slurm_partition:
            sbatch.append(f"--partition={cfg.slurm_partition}")
        if gpus:
            sbatch.append(f"--gres=gpu:{gpus}")
        if str(cfg.slurm_timeout) not in ("0", ""):
            sbatch.append(f"--time={cfg.slurm_timeout}")
        sbatch.append(script)
        if cfg.slurm_print_only:
            print(" ".join(shlex.quote(t) for t in sbatch))
            continue
        out = _slurm(sbatch)
        if out.returncode != 0:
            raise ConfigError(f"sbatch refused {name} (exit {out.returncode}): {out.stderr.strip()}")
        job_id = out.stdout.strip().split(";")[0]
        jobs[name] = {"job_id": job_id, "script": script, "log": os.path.join(workdir, f"{name}-{job_id}.out"),
                      "submitted": time.strftime("%Y-%m-%dT%H:%M:%S")}
        write_json(os.path.join(workdir, JOBS_FILE), jobs)  # after every submission: a crash loses no job id
        print(f"{name}: submitted as job {job_id}; log {jobs[name]['log']}")
    return jobs


def wait_for(jobs: dict, poll: float = 5.0, timeout: float | None = None) -> None:
    """Until Slurm holds none of ``jobs`` queued or running (a progress bar of the jobs done)."""
    ids = [str(j["job_id"]) for j in jobs.values() if "job_id" in j]
    end = None if timeout is None else time.monotonic() + timeout
    with tqdm(total=len(ids), desc="slurm jobs", unit="job") as bar:
        while True:
            live = job_states(ids)
            bar.n = len(ids) - len(live)
            bar.set_postfix_str(", ".join(f"{sum(s == st for s in live.values())} {st.lower()}"
                                          for st in sorted(set(live.values()))))
            bar.refresh()
            if not live:
                return
            if end is not None and time.monotonic() > end:
                raise ConfigError(f"Slurm jobs {', '.join(sorted(live))} still {', '.join(sorted(set(live.values())))}"
                                  f" after {timeout:g} s")
            time.sleep(poll)


def exit_status(job: dict) -> int | None:
    """The job's recorded exit status; None when it left none (killed before the script could write it)."""
    path = job["log"][:-len(".out")] + ".exit"
    try:
        with open(path, encoding="utf-8") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def report_jobs(jobs: dict, names) -> dict[str, int | None]:
    """Print each of the ``names`` runs' last job and its exit status, with a failed job's log tail."""
    codes = {}
    for name in names:
        job = jobs.get(name)
        if job is None:
            continue
        codes[name] = code = exit_status(job)
        what = {0: "exit 0", 143: "cancelled (SIGTERM), exit 143", None: "no exit status (killed)"}.get(code,
                                                                                                        f"exit {code}")
        print(f"{name}: job {job['job_id']} {what}; log {job['log']}")
        if code != 0:
            try:
                with open(job["log"], errors="replace") as f:
                    tail = f.read().splitlines()[-LOG_TAIL:]
            except OSError:
                tail = ["(no log)"]
            print("\n".join(f"    {line}" for line in tail))
    return codes
