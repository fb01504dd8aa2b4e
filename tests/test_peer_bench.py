"""The peer benchmark's parts that need neither the network nor mettagrid (devops/peer_bench.sh, metta.bench.peers)."""
import importlib.util
import json
import os
import re
import subprocess
import sys

import pytest

from metta.bench.peers import mettagrid_bench, project_bench, report
from metta.bench.peers.project_bench import level_counts, project_round

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "devops", "peer_bench.sh")


class RecordingEnv:
    """A PettingZoo-shaped env that records what a timing loop does to it; its episodes last 7 steps."""

    class Space:
        n = 5

    def __init__(self):
        self.possible_agents = ["a", "b", "c"]
        self.agents = []
        self.calls = []
        self._t = 0

    def action_space(self, agent):
        return self.Space()

    def reset(self, seed=None):
        self.calls.append(("reset", seed))
        self.agents, self._t = list(self.possible_agents), 0
        return {}, {}

    def step(self, actions):
        self.calls.append(("step", tuple(sorted(actions.items()))))
        self._t += 1
        if self._t == 7:
            self.agents = []
        return {}, {}, {}, {}, {}


def test_peer_loop_is_the_projects_loop():
    """Both sides are timed by one loop: same draws, same resets, a warm-up, then the timed runs."""
    assert project_bench.bench_parallel_env is mettagrid_bench.bench_parallel_env
    ours, again = RecordingEnv(), RecordingEnv()
    b = mettagrid_bench.bench_parallel_env(ours, steps=60, repeats=2, seed=3)
    mettagrid_bench.bench_parallel_env(again, steps=60, repeats=2, seed=3)
    assert again.calls == ours.calls  # the actions are drawn from the seed
    assert sum(c[0] == "step" for c in ours.calls) == 50 + 2 * 60  # warm-up, then the timed runs
    # every episode (7 steps here) ends in a reset, and each timed run starts from a seeded reset
    assert [c for c in ours.calls if c[0] == "reset"].count(("reset", 3)) == 3
    assert b["agents"] == 3
    assert len(b["runs_env_steps_per_s"]) == 2 and b["agent_steps_per_s"] == pytest.approx(3 * b["env_steps_per_s"])


def test_peer_arguments_are_checked():
    args = mettagrid_bench.parse_args(["--steps", "20", "--apis", "sim", "--json"])
    got = (args.steps, args.apis, args.json, args.agents, args.size, args.obs_window)
    assert got == (20, ["sim"], True, 24, 40, 11)
    for bad in (["--steps", "0"], ["--obs-window", "10"], ["--apis", "gym"], ["--size", "2"]):
        with pytest.raises(SystemExit):
            mettagrid_bench.parse_args(bad)


def test_peer_script_says_where_mettagrid_comes_from(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "mettagrid", None)  # not importable, as in the project venv
    assert mettagrid_bench.main(["--steps", "5"]) == 2
    err = capsys.readouterr().err
    assert "mettagrid is not importable" in err and "devops/peer_bench.sh" in err


def peer_round(sim, pz, walls=166):
    return {"version": "0.26.22", "map": {"width": 40, "height": 40, "objects": {"agent": 24, "wall": walls}},
            "observation": {"kind": "tokens", "shape": [500, 3], "window": [11, 11]},
            "actions": ["noop", "move_north", "move_south", "move_west", "move_east"], "max_steps": 1000,
            "apis": {"sim": {"agent_steps_per_s": sim}, "pettingzoo": {"agent_steps_per_s": pz}}}


def project_result(rate):
    return {"env": "metta-teams", "obs_backend": "numba", "agents": 24, "size": 40, "steps": 100, "repeats": 3,
            "map": {"width": 40, "height": 40, "objects": {"agent": 24, "altar": 5, "wall": 228}},
            "observation": {"kind": "planes", "shape": [21, 11, 11], "window": [11, 11]},
            "actions": ["noop"] * 22, "max_steps": 1000, "timing": {"agent_steps_per_s": rate}}


def test_report_pairs_rounds_and_quotes_the_median_ratio(tmp_path, capsys):
    # a noisy machine: both sides slow down together in round 2, so the figures swing and the ratios do not
    rounds = [(peer_round(100_000, 60_000), project_result(20_000)),
              (peer_round(50_000, 30_000), project_result(12_500)),
              (peer_round(90_000, 54_000), project_result(30_000))]
    r = report.build(rounds)
    assert [x["ratio"]["sim"] for x in r["rounds"]] == pytest.approx([5.0, 4.0, 3.0])
    assert r["median_ratio"] == pytest.approx({"sim": 4.0, "pettingzoo": 2.4})
    assert r["median_agent_steps_per_s"]["project"] == 20_000
    assert any("altar 0/5" in d and "wall 166/228" in d for d in r["differences"])
    assert any("actions: mettagrid 5" in d for d in r["differences"])
    table = report.format_table(r).splitlines()
    assert table[2].split() == ["1", "100,000", "60,000", "20,000", "5.00x", "3.00x"]
    assert table[5].split() == ["median", "90,000", "54,000", "20,000", "4.00x", "2.40x"]

    args = []
    for i, (m, p) in enumerate(rounds):
        for kind, data in (("m", m), ("p", p)):
            (tmp_path / f"{i}.{kind}.json").write_text(json.dumps(data))
        args += ["--round", str(tmp_path / f"{i}.m.json"), str(tmp_path / f"{i}.p.json")]
    assert report.main(args + ["--json"]) == 0
    assert json.loads(capsys.readouterr().out)["median_ratio"]["sim"] == pytest.approx(4.0)
    with pytest.raises(SystemExit, match="has no 'apis'"):  # the two files of a round swapped
        report.main(["--round", args[2], args[1]])


def test_project_round_reports_what_its_map_holds():
    assert level_counts("W W W\nW A1 .\nW A12 g", {"wall": "W", "agent": "A", "generator": "g"}) == \
        {"agent": 2, "generator": 1, "wall": 5}
    r = project_round(steps=20, repeats=1, agents=4, size=10)  # one team of 4
    assert r["map"]["objects"]["agent"] == 4 and r["map"]["inner_walls"] >= 0
    assert r["observation"]["shape"][1:] == [11, 11] and len(r["actions"]) == 22
    assert r["timing"]["agents"] == 4 and r["timing"]["agent_steps_per_s"] > 0


def run_script(*args, **env):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "METTA_PEER_"))}
    return subprocess.run(["bash", SCRIPT, *args], capture_output=True, text=True, timeout=120,
                          env={**base, **env})


def test_peer_bench_fails_clearly_when_pip_cannot_install(tmp_path):
    index = tmp_path / "empty-index"
    index.mkdir()
    venv = tmp_path / "peer"
    # no pip configuration, an empty local index: pip finds no mettagrid, offline and at once
    p = run_script("--rounds", "1", PIP_CONFIG_FILE=os.devnull, METTA_PEER_PIP_INDEX=index.as_uri(),
                   METTA_PEER_VENV=str(venv))
    assert p.returncode != 0
    assert "pip could not install mettagrid==0.26.22" in p.stderr and "No matching distribution" in p.stderr
    assert sorted(os.listdir(tmp_path)) == ["empty-index"]  # no venv, whole or half, and no temporary left


def test_peer_bench_refuses_the_project_venv_and_bad_arguments(tmp_path):
    p = run_script("--dry-run", METTA_PEER_VENV=os.path.join(ROOT, ".venv", "peer"))
    assert p.returncode != 0 and "inside) the project venv" in p.stderr
    p = run_script("--rounds", "x", METTA_PEER_VENV=str(tmp_path / "peer"))
    assert p.returncode != 0 and "--rounds must be a positive integer" in p.stderr
    p = run_script("--dry-run", "--json", METTA_PEER_VENV=str(tmp_path / "peer"))
    assert p.returncode == 0 and "to be made" in p.stderr and p.stdout == ""
    assert not (tmp_path / "peer").exists()
    # what the dry run says each round runs is there: the script once ran a file that had moved, suite green
    bench = re.search(r"rounds of: \S+ (\S+) --json", p.stderr)
    assert bench, p.stderr
    assert os.path.isfile(bench.group(1)) and os.path.commonpath([bench.group(1), ROOT]) == ROOT, bench.group(1)
    modules = re.findall(r"/python -m (\S+)", p.stderr)
    assert modules == ["metta.bench.peers.project_bench", "metta.bench.peers.report"], p.stderr
    assert all(importlib.util.find_spec(m) is not None for m in modules)
