"""The flagship experiment: its spec loads and refuses a bad key by name; --dry_run prints the sweep and cross-play
commands at the scaled budget; one tiny experiment end to end, whose flagship.json holds the cross-play reports' and
the sweep's own numbers, and whose rerun reuses what is done."""
import json
import os
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT
from test_learning_bench import TINY  # flags that train in seconds: 10x10, 4 agents, 30-step episodes

SPEC = os.path.join(ROOT, "experiments", "kinship_dilemma.yaml")


def command(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "metta.experiments.run", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, timeout=timeout, env={**os.environ, "PYTHONPATH": ROOT})


def test_the_flagship_spec_loads():
    from metta.experiments.spec import load_spec

    spec = load_spec(SPEC)
    assert spec.name == "kinship_dilemma" and spec.preset == "metta-dilemma"
    assert spec.grid == {"kinship.team_reward": [0, 0.5, 1]} and spec.seeds == 4 and spec.env_steps == 5_000_000
    assert spec.evaluation.episodes >= 5 and spec.crossplay.episodes >= 5
    pairs = {p.name: p for p in spec.crossplay.pairs}
    assert {(p.focal["kinship.team_reward"], p.background["kinship.team_reward"]) for p in pairs.values()} >= {
        (1, 0), (0, 1), (1, 1)}
    assert any(p.focal == p.background and p.background_seed_offset == 1 for p in pairs.values())  # convention


@pytest.mark.parametrize("change, key", [
    (lambda d: d.__setitem__("sedes", d.pop("seeds")), "sedes"),
    (lambda d: d["evaluation"].__setitem__("episods", 3), "evaluation.episods"),
    (lambda d: d["crossplay"]["pairs"][0].__setitem__("focus", {}), "crossplay.pairs[0].focus"),
    (lambda d: d["crossplay"]["pairs"][1]["focal"].__setitem__("kinship.team_reward", 0.7),
     "crossplay.pairs[1].focal.kinship.team_reward"),
    (lambda d: d.__setitem__("seeds", "4"), "seeds"),
])
def test_a_bad_key_is_a_config_error_naming_it(tmp_path, change, key):
    from metta.errors import ConfigError
    from metta.experiments.spec import load_spec

    with open(SPEC) as f:
        data = yaml.safe_load(f)
    change(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        load_spec(str(path))
    assert key in str(err.value) and str(path) in str(err.value)


def test_the_command_refuses_a_bad_spec_and_a_missing_one(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(open(SPEC).read().replace("seeds: 4", "sedes: 4"))
    bad = command(path, "--dry_run")
    assert bad.returncode == 1 and "error:" in bad.stderr and "sedes" in bad.stderr and "Traceback" not in bad.stderr
    missing = command(tmp_path / "none.yaml", "--dry_run")
    assert missing.returncode == 2 and "no such spec file" in missing.stderr


@pytest.mark.slow
def test_dry_run_prints_the_sweep_and_crossplay_commands_at_the_scaled_budget(tmp_path):
    proc = command(SPEC, "--env_steps", 100_000_000, "--backend", "slurm", "--train_dir", tmp_path / "td",
                   "--slurm_partition", "cpu", "--dry_run")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    sweep = lines[0].split()
    assert sweep[:4] == ["python", "-m", "metta.experiments.sweep", "kinship_dilemma"]
    flags = dict(zip(sweep[4::2], sweep[5::2]))
    assert flags["--env_steps"] == "100000000" and flags["--backend"] == "slurm" and flags["--seeds"] == "4"
    assert flags["--grid"] == "kinship.team_reward=0,0.5,1" and flags["--env"] == "metta-dilemma"
    assert flags["--slurm_partition"] == "cpu"  # flags the command does not know go to the sweep
    crossplay = [line.split() for line in lines if line.startswith("python -m metta.evals.crossplay")]
    assert len(crossplay) == 4
    for cmd in crossplay:
        focal = cmd[cmd.index("--focal") + 1:cmd.index("--background")]
        background = cmd[cmd.index("--background") + 1:cmd.index("--env")]
        assert len(focal) == len(background) == 4
        assert cmd[cmd.index("--train_dir") + 1] == str(tmp_path / "td" / "kinship_dilemma")
        if cmd[-1].endswith("sharers_among_sharers_convention.json"):  # seed k among seed k + 1
            assert focal == [f"kinship.team_reward_1_seed_{k}" for k in range(4)]
            assert background == [f"kinship.team_reward_1_seed_{(k + 1) % 4}" for k in range(4)]
        if cmd[-1].endswith("sharers_among_selfish.json"):
            assert background == [f"kinship.team_reward_0_seed_{k}" for k in range(4)]
    assert not (tmp_path / "td").exists()  # nothing run, nothing written
    fewer = command(SPEC, "--seeds", 2, "--train_dir", tmp_path / "td", "--dry_run")
    assert fewer.returncode == 0 and "--seeds 2 --env_steps 5000000" in fewer.stdout
    refused = command(SPEC, "--no_such_flag", "1", "--train_dir", tmp_path / "td", "--dry_run")
    assert refused.returncode == 2 and "--no_such_flag" in refused.stderr


TINY_MAP = {"width": 10, "height": 10, "num_agents": 4, "team_size": 2, "generators": 3, "chargers": 1, "altars": 1}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny experiment (2 grid values x 1 seed, 1000 agent-steps a run, 30-step episodes) run twice."""
    root = tmp_path_factory.mktemp("flagship")
    spec = {"name": "tiny", "preset": "metta-dilemma", "grid": {"kinship.team_reward": [0, 1]}, "seeds": 1,
            "env_steps": 1000, "evaluation": {"episodes": 2, "max_steps": 30}, "train_flags": TINY,
            "crossplay": {"episodes": 2, "max_steps": 30, "options": {**TINY_MAP, "team_reward": 1},
                          "pairs": [{"name": "one_among_zero", "focal": {"kinship.team_reward": 1},
                                     "background": {"kinship.team_reward": 0}},
                                    {"name": "zero_among_one", "focal": {"kinship.team_reward": 0.0},
                                     "background": {"kinship.team_reward": 1}}]}}
    path = root / "tiny.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    train_dir = root / "td"
    first = command(path, "--train_dir", train_dir, "--pause_between", 0)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-3000:]
    sweep_dir = train_dir / "tiny"
    reports = sorted((sweep_dir / "crossplay").glob("*_among_*.json"))
    times = {p.name: p.stat().st_mtime_ns for p in reports}
    again = command(path, "--train_dir", train_dir, "--pause_between", 0)
    return dict(sweep_dir=sweep_dir, first=first, again=again, times=times, reports=reports)


@pytest.mark.slow
def test_a_tiny_experiment_end_to_end_reports_the_crossplay_and_sweep_numbers(tiny):
    sweep_dir = tiny["sweep_dir"]
    flagship = json.loads((sweep_dir / "flagship.json").read_text())
    results = json.loads((sweep_dir / "results.json").read_text())
    assert flagship["sweep"]["summary"] == results["summary"] and flagship["sweep"]["evaluation"]["episodes"] == 2
    assert results["sweep"]["env_steps"] == 1000 and results["sweep"]["grid"] == {"kinship.team_reward": ["0", "1"]}
    assert [p["name"] for p in flagship["crossplay"]] == ["one_among_zero", "zero_among_one"]
    for pair in flagship["crossplay"]:
        report = json.loads((sweep_dir / pair["report"]).read_text())
        assert [(r["focal"], r["background"]) for r in report["pairs"]] == [tuple(r) for r in pair["runs"]]
        across = report["across_pairs"]
        assert pair["focal_return"] == across["crossplay"]["focal_return"]
        assert pair["resident_return"] == across["resident"]["focal_return"]
        assert pair["return_vs_resident"] == across["crossplay"]["return_vs_resident"]
        assert pair["placebo_return"] == across["placebo"]["focal_return"]
        assert pair["n_pairs"] == report["n_pairs"] == 1 and report["episodes"] == 2 and report["max_steps"] == 30
        # one pair of seeds: the summary over pairs is that pair's own mean over episodes
        assert pair["focal_return"]["mean"] == pytest.approx(
            report["pairs"][0]["summary"]["crossplay"]["focal_return"]["mean"])
    one = flagship["crossplay"][0]
    assert one["runs"] == [["kinship.team_reward_1_seed_0", "kinship.team_reward_0_seed_0"]]
    assert flagship["crossplay"][1]["focal"] == {"kinship.team_reward": "0"}
    page = (sweep_dir / "flagship.html").read_text()
    assert 'href="report.html"' in page and 'href="crossplay/one_among_zero.json"' in page
    assert f'data-pair="one_among_zero" data-key="focal_return">{one["focal_return"]["mean"]:.3g}' in page


@pytest.mark.slow
def test_a_rerun_skips_the_finished_runs_and_reuses_the_crossplay_reports(tiny):
    again = tiny["again"]
    assert again.returncode == 0, again.stderr[-3000:]
    assert "nothing to train" in again.stdout
    assert "cross-play one_among_zero: up to date" in again.stdout
    assert "cross-play zero_among_one: up to date" in again.stdout
    assert {p.name: p.stat().st_mtime_ns for p in tiny["reports"]} == tiny["times"]
