"""The command-line tools run and print what they claim (figures are not asserted: timing varies)."""
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT


def run(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout)


def test_bench_json():
    proc = run("metta.bench", "--json", "--steps", "40", "--repeats", "2", "--backends", "griddly,numba",
               "--batch", "2")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    rows = out["contenders"]
    assert out["env"] == "metta-teams" and list(rows) == ["seed stack", "griddly floor", "griddly", "numba", "batch 2",
                                                          "floor 2"]
    for name, r in rows.items():
        assert r["agents"] == (48 if name.endswith(" 2") else 24) and len(r["runs"]) == 2
        assert sorted(r["runs"])[0] <= r["agent_steps_per_s"] <= sorted(r["runs"])[1]
        # the ratios are medians of within-round ratios against the same rounds' baselines
        assert r["vs_seed_stack"] == pytest.approx(np.median(np.divide(r["runs"], rows["seed stack"]["runs"])))
        floor = rows["floor 2" if name.endswith(" 2") else "griddly floor"]["runs"]
        assert r["over_floor"] == pytest.approx(np.median(np.divide(floor, r["runs"])))
    assert rows["seed stack"]["vs_seed_stack"] == 1.0 and rows["griddly floor"]["over_floor"] == 1.0


def test_bench_unknown_backend_is_a_usage_error():
    proc = run("metta.bench", "--backends", "griddly,opencl")
    assert proc.returncode == 2 and "unknown backend(s) opencl" in proc.stderr


def test_rollout_summary():
    proc = run("metta.bench.rollout", "--env", "metta-solo", "--steps", "30", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["env"] == "metta-solo" and out["steps"] == 30 and out["agents"] == 24


def test_rollout_unknown_env_is_a_clear_error():
    proc = run("metta.bench.rollout", "--env", "metta-nope", "--steps", "3")
    assert proc.returncode == 2  # a command line that cannot run (metta.errors)
    assert "unknown environment 'metta-nope'" in proc.stderr and "Traceback" not in proc.stderr


def test_the_json_readers_share_one_clear_error(tmp_path):
    import pytest

    from metta.errors import ConfigError
    from metta.sf_integration.checkpoints import CheckpointError, read_config
    from metta.sf_integration.hub.manifest import read_manifest

    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match=r"config.json: unreadable experiment config .*expected a JSON file"):
        read_config(str(tmp_path))
    (tmp_path / "manifest.json").write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match=r"manifest.json: unreadable manifest .*expected a JSON file"):
        read_manifest(str(tmp_path / "manifest.json"), "model")
