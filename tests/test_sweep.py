"""Sweeps: a tiny 2-point sweep end to end through Sample Factory's launcher, its report recomputed from the runs'
stats.json, resume and skip; the slurm backend's job files; bad inputs."""
import csv
import glob
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from test_learning_bench import TINY  # flags that train in seconds: 10x10, 4 agents, 30-step episodes

BUDGET = 1000
LONGER = 1300  # a little more: the resumed runs start up again but train only a few batches


def sweep(train_dir, *args, budget=BUDGET, extra=TINY, timeout=400):
    cmd = [sys.executable, "-m", "metta.experiments.sweep", "tiny", "--grid", "team_reward=0,1", "--seeds", "1",
           f"--env_steps={budget}", "--episodes", "2", "--eval_max_steps", "30", "--train_dir", str(train_dir),
           "--pause_between", "0", *args, "--", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": ROOT})


def checkpoints(train_dir):
    paths = glob.glob(os.path.join(str(train_dir), "tiny", "*", "checkpoint_p0", "*.pth"))
    return {p: (os.path.getmtime(p), os.path.getsize(p)) for p in paths}


def latest_steps(run_dir):
    return max(int(re.match(r"checkpoint_\d+_(\d+)\.pth", os.path.basename(p)).group(1))
               for p in glob.glob(os.path.join(run_dir, "checkpoint_p0", "checkpoint_*.pth")))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The sweep trained once (one run at a time), rerun unchanged, then rerun with twice the budget."""
    train_dir = tmp_path_factory.mktemp("sweep")
    first = sweep(train_dir, "--max_parallel", "1")
    assert first.returncode == 0, first.stderr[-3000:]
    sweep_dir = os.path.join(str(train_dir), "tiny")
    with open(os.path.join(sweep_dir, "results.json")) as f:
        results = json.load(f)
    with open(os.path.join(sweep_dir, "report.html")) as f:
        page = f.read()
    from metta.sf_integration.checkpoints import read_config

    runs = ("team_reward_0_seed_0", "team_reward_1_seed_0")
    steps = {r: latest_steps(os.path.join(sweep_dir, r)) for r in runs}
    configs = {r: read_config(os.path.join(sweep_dir, r)) for r in runs}
    stats = {}
    for r in runs:
        with open(os.path.join(sweep_dir, r, "eval", "stats.json")) as f:
            stats[r] = json.load(f)
    before = checkpoints(train_dir)
    again = sweep(train_dir, "--max_parallel", "1")
    unchanged = checkpoints(train_dir) == before
    longer = sweep(train_dir, "--max_parallel", "2", budget=LONGER)
    return dict(train_dir=train_dir, sweep_dir=sweep_dir, first=first, results=results, page=page, steps=steps,
                configs=configs, stats=stats,
                again=again, unchanged=unchanged, longer=longer)


def recompute(stats):
    """Per episode, each metric's mean over agents (None skipped), straight from stats.json."""
    out = []
    for episode in stats["episodes"]:
        agents = list(episode["agents"].values())
        row = {}
        for key in agents[0]:
            values = [a[key] for a in agents if isinstance(a.get(key), (int, float)) and a.get(key) is not None]
            if values:
                row[key] = sum(values) / len(values)
        if "attack_chances_kin" in agents[0]:
            chances = sum(a["attack_chances_kin"] for a in agents)
            row["attack_rate_kin"] = sum(a["attacks_on_kin"] for a in agents) / chances if chances else None
        out.append(row)
    return out


def per_seed_value(stats, metric, episode_values):
    """A run's value of ``metric`` recomputed from stats.json: rates pool the counts of all episodes and agents,
    the kin/stranger ratio is (hk + 0.5)/(hs + 0.5) * cs/ck of the pooled counts (none without events), any other
    metric the mean of its episode values."""
    for prefix, hit in (("attack", "attacks_on"), ("gift", "gifts_to")):
        if not metric.startswith(f"{prefix}_rate_") and metric != f"{prefix}_kin_stranger_ratio":
            continue
        if f"{prefix}_chances_kin" not in next(iter(stats["episodes"][0]["agents"].values())):
            return None
        strata = [[sum(a[k] for a in e["agents"].values()) for k in
                   (f"{hit}_kin", f"{prefix}_chances_kin", f"{hit}_strangers", f"{prefix}_chances_strangers")]
                  for e in stats["episodes"]]
        hk, ck, hs, cs = (sum(s[j] for s in strata) for j in range(4))
        if metric.endswith("_rate_kin"):
            return hk / ck if ck else None
        if metric.endswith("_rate_strangers"):
            return hs / cs if cs else None
        if not ck or not cs or hk + hs == 0:
            return None
        return (hk + 0.5) / (hs + 0.5) * cs / ck
    return float(np.mean(episode_values)) if episode_values else None


@pytest.mark.slow
def test_two_point_sweep_runs_end_to_end_and_its_report_is_the_runs_numbers(tiny):
    sweep_dir, results = tiny["sweep_dir"], tiny["results"]
    for name in ("report.html", "results.csv", "results.json", "sweep.json", "plots/hearts.png"):
        assert os.path.isfile(os.path.join(sweep_dir, name)), name
    summary = results["summary"]
    assert [p["params"] for p in summary] == [{"team_reward": 0}, {"team_reward": 1}]
    cells = dict(((m, int(i)), text) for m, i, text in
                 re.findall(r'<td data-metric="(\w+)" data-point="(\d)">([^<]*)</td>', tiny["page"]))
    for i, (reward, point) in enumerate(zip((0.0, 1.0), summary)):
        (run,) = point["runs"]
        cfg = tiny["configs"][run]
        assert cfg["kinship.team_reward"] == reward and cfg["seed"] == 0 and cfg["map.width"] == 10
        assert cfg["env_config"]["kinship"]["team_reward"] == reward and cfg["env_config"]["map"]["width"] == 10
        assert cfg["train_for_env_steps"] == BUDGET and tiny["steps"][run] >= BUDGET
        stats = tiny["stats"][run]
        assert [e["seed"] for e in stats["episodes"]] == [0, 1] and stats["max_steps"] == 30
        assert stats["video"] is None  # nothing filmed without --film
        assert [e["replay"] for e in stats["episodes"]] == [None, None]  # nor recorded without --replays
        assert not glob.glob(os.path.join(sweep_dir, run, "eval", "*.replay.json.gz"))
        episodes = recompute(stats)
        for metric in ("hearts", "diamonds_harvested", "attacks_on_kin", "reward", *episodes[0]):
            # seeds are the unit (metta.experiments.seed_stats): the run's mean over its episodes, rates pooled
            # over its episodes, ratios of the pooled counts; one seed per point: n = 1 and no interval
            expected = per_seed_value(stats, metric, [e[metric] for e in episodes if e.get(metric) is not None])
            got = point["metrics"][metric]
            assert got["n"] == (0 if expected is None else 1), metric
            assert got["lo"] is None and got["hi"] is None, metric
            if expected is None:
                assert got["mean"] is None and cells[(metric, i)] == "–"
                continue
            assert got["mean"] == pytest.approx(expected, abs=1e-12), metric
            assert cells[(metric, i)] == f"{expected:.4g} (n=1 seed: no interval: one seed)", metric
    with open(os.path.join(sweep_dir, "results.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [(r["team_reward"], r["seed"], r["episode_seed"]) for r in rows] == [
        ("0", "0", "0"), ("0", "0", "1"), ("1", "0", "0"), ("1", "0", "1")]
    assert float(rows[0]["hearts"]) == pytest.approx(results["rows"][0]["hearts"])
    # the text table: a column per grid point, a line per metric, the same means
    lines = tiny["first"].stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if line.split()[:3] == ["team_reward", "0", "1"])
    hearts = next(line for line in lines[head:] if line.startswith("hearts "))
    assert hearts.split()[1] == f"{summary[0]['metrics']['hearts']['mean']:.3g}"


@pytest.mark.slow
def test_rerun_skips_finished_runs_and_a_larger_budget_resumes_them(tiny):
    again = tiny["again"]
    assert again.returncode == 0, again.stderr[-3000:]
    out = again.stdout + again.stderr
    assert out.count("finished") >= 2 and "skipped" in out and "nothing to train" in out
    assert "evaluation up to date" in out and tiny["unchanged"]
    longer = tiny["longer"]
    assert longer.returncode == 0, longer.stderr[-3000:]
    out = longer.stdout + longer.stderr
    for run, steps in tiny["steps"].items():
        assert steps < LONGER and f"{run}: to train, resuming at {steps:,}" in out
        assert f"env_steps={steps}" in out  # Sample Factory's "Loaded experiment state at ... env_steps=N"
        assert latest_steps(os.path.join(tiny["sweep_dir"], run)) >= LONGER
    assert "starting from scratch" not in out.lower()
    with open(os.path.join(tiny["sweep_dir"], "sweep.json")) as f:
        assert json.load(f)["env_steps"] == LONGER


def test_slurm_print_only_writes_one_job_per_run_with_its_command(tmp_path):
    workdir = tmp_path / "slurm"
    cmd = [sys.executable, "-m", "metta.experiments.sweep", "cluster", "--grid", "team_reward=0,0.5", "--seeds", "2",
           "--first_seed", "3", "--env_steps", "5000", "--train_dir", str(tmp_path / "td"), "--backend", "slurm",
           "--slurm_print_only", "True", "--slurm_workdir", str(workdir), "--pause_between", "0", "--", *TINY]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = sorted(glob.glob(str(workdir / "sbatch_*.sh")))
    expected = {}
    for reward in ("0", "0.5"):
        for seed in (3, 4):
            name = f"team_reward_{reward}_seed_{seed}"
            expected[str(workdir / f"sbatch_{name}.sh")] = " ".join(
                ["python -m metta.sf_integration.train --env=metta-teams --train_for_env_steps=5000", *TINY,
                 f"--team_reward={reward} --seed={seed} --experiment={name} --train_dir={tmp_path / 'td' / 'cluster'}"])
    assert sorted(expected) == jobs
    for job, command in expected.items():
        lines = open(job).read().splitlines()
        # the command runs in the background of the job script, which waits for it (metta.experiments.slurm)
        assert [line for line in lines if "metta.sf_integration.train" in line] == [command + " &"]
    assert not glob.glob(str(tmp_path / "td" / "cluster" / "*" / "checkpoint_p0"))  # nothing trained
    assert not glob.glob(str(tmp_path / "td" / "cluster" / "**" / "stats.json"), recursive=True)  # nor evaluated
    assert not os.path.exists(tmp_path / "td" / "cluster" / "report.html")
    assert "--report_only" in proc.stdout


@pytest.mark.slow
def test_bad_inputs_are_clear_errors_that_write_nothing(tmp_path, capsys):
    from metta.experiments.sweep import main

    td = tmp_path / "td"
    base = ["s", "--env_steps", "1000", "--train_dir", str(td), "--backend", "slurm", "--slurm_print_only", "True",
            "--pause_between", "0"]
    cases = [
        (["--grid", "team_reward"], "--grid 'team_reward'"),
        (["--grid", "team_reward=0,,1"], "no empty value"),
        (["--grid", "team_rewrd=0,1"], "--team_rewrd is not a flag of the training command"),
        (["--grid", "team_reward=0,1", "--grid", "team_reward=2"], "given 2 times"),
        (["--grid", "team_reward=0,x"], "invalid float value: 'x'"),
        (["--grid", "seed=0,1"], "use --seeds"),
        (["--grid", "team_reward=0,1", "--seeds", "0"], "--seeds must be >= 1"),
        (["--grid", "kinship.team_reward=0,1", "--grid", "team_reward=2"], "set the same training flag"),
        (["--grid", "kinship.a=1,2"], "kinship.a is a parameter of structure 'random', not of structure 'teams'"),
        (["--grid", "map.width=2,12"], "map.width and map.height must be at least 3"),
    ]
    for args, words in cases:
        assert main([*base, *args]) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("error: ") and words in err, (args, err)
        assert not td.exists(), args  # nothing written
    # a rerun must repeat the sweep: another grid, or a smaller budget, is refused and leaves sweep.json as it was
    assert main([*base, "--grid", "team_reward=0,1", "--", *TINY]) == 0
    capsys.readouterr()
    recorded = (td / "s" / "sweep.json").read_text()
    assert main([*base, "--grid", "team_reward=0,0.5", "--", *TINY]) == 2
    assert "records another sweep: its grid" in capsys.readouterr().err
    smaller = [a if a != "1000" else "500" for a in base]
    assert main([*smaller, "--grid", "team_reward=0,1", "--", *TINY]) == 2
    assert "may only grow" in capsys.readouterr().err
    assert (td / "s" / "sweep.json").read_text() == recorded
    # from the command line: exit 2, the message, no traceback
    proc = subprocess.run([sys.executable, "-m", "metta.experiments.sweep", "s", "--grid", "nope=1", "--env_steps",
                           "10", "--train_dir", str(tmp_path / "other")], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.returncode == 2 and "error: --grid nope" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "other").exists()


def test_samples_take_means_over_agents_and_rates_per_chance():
    from metta.evals.stats import mean_interval, t_quantile
    from metta.experiments.sweep_report import episode_sample

    for df, t in [(1, 12.7062047361747), (2, 4.30265272974946), (9, 2.26215716279820), (30, 2.04227245630124)]:
        assert t_quantile(0.975, df) == pytest.approx(t, rel=1e-9)  # scipy's t.ppf: about 1e-11
    s = mean_interval([1.0, 2.0, 3.0])
    assert s["mean"] == 2 and s["n"] == 3 and s["hi"] - 2 == pytest.approx(4.30265272974946 / np.sqrt(3))
    agents = [{"hearts": 1, "equality": None, "body": "light", "attacks_on_kin": 1, "attacks_on_strangers": 0,
               "attack_chances_kin": 4, "attack_chances_strangers": 0},
              {"hearts": 2, "equality": None, "body": "heavy", "attacks_on_kin": 1, "attacks_on_strangers": 2,
               "attack_chances_kin": 0, "attack_chances_strangers": 8}]
    out = episode_sample(agents)
    assert out["hearts"] == 1.5 and out["equality"] is None and "body" not in out
    assert out["attack_rate_kin"] == 0.5 and out["attack_rate_strangers"] == 0.25
    assert out["attack_kin_stranger_ratio"] == 2.0
    assert out["gift_rate_kin"] is None and out["gift_kin_stranger_ratio"] is None  # no gift counts at all
    agents[1]["attack_chances_strangers"] = 0
    out = episode_sample(agents)
    assert out["attack_rate_strangers"] is None and out["attack_kin_stranger_ratio"] is None
