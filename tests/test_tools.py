"""The command-line tools run and print what they claim (figures are not asserted: timing varies)."""
import json
import subprocess
import sys

from conftest import ROOT


def run(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout)


def test_bench_json():
    proc = run("metta.bench", "--json", "--steps", "40", "--repeats", "1", "--backends", "griddly,numpy",
               "--sweep", "4")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["env"] == "metta-teams" and set(out["backends"]) == {"griddly", "numpy"}
    for r in out["backends"].values():
        assert r["agents"] == 24 and r["agent_steps_per_s"] > 0
        assert abs(r["agent_steps_per_s"] - 24 * r["env_steps_per_s"]) < 1e-6 * r["agent_steps_per_s"]
    assert out["backends"]["numpy"]["speedup_vs_griddly"] > 0
    assert [p["map"]["num_agents"] for p in out["sweep"]] == [4]
    assert set(out["sweep"][0]["backends"]) == {"griddly", "numpy"}


def test_bench_unknown_backend_is_a_usage_error():
    proc = run("metta.bench", "--backends", "griddly,opencl")
    assert proc.returncode == 2 and "unknown backend(s) opencl" in proc.stderr


def test_rollout_summary():
    proc = run("metta.rollout", "--env", "metta-solo", "--steps", "30", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["env"] == "metta-solo" and out["steps"] == 30 and out["agents"] == 24


def test_rollout_unknown_env_is_a_clear_error():
    proc = run("metta.rollout", "--env", "metta-nope", "--steps", "3")
    assert proc.returncode == 1
    assert "unknown environment 'metta-nope'" in proc.stderr and "Traceback" not in proc.stderr
