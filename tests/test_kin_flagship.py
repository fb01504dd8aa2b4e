"""The kin dilemma's experiment (experiments/kin_dilemma.yaml) end to end on a tiny budget: every run holds both arms;
the paired evaluation, the probes, cross-play per focal arm and the arms' reading land in flagship.json and
flagship.html; and the reading's contrast and its interval, recomputed here from the runs' own stats.json files with
nothing of the report's code, are what flagship.json says."""
import json
import math
import os

import pytest
import yaml

from conftest import ROOT
from test_flagship import command

SPEC = os.path.join(ROOT, "experiments", "kin_dilemma.yaml")
T_975_DF1 = 12.706204736174698     # Student's t, 0.975 quantile, 1 degree of freedom (tables)
TINY = ["--map.width=10", "--map.height=10", "--map.num_agents=4", "--kinship.num_teams=2", "--max_steps=40",
        "--num_workers=1", "--num_envs_per_worker=2", "--vector_envs=1", "--rollout=8", "--batch_size=64",
        "--experiment_summaries_interval=1", "--decorrelate_envs_on_one_worker=False", "--curriculum=kin_dilemma"]
MAP = {"width": 10, "height": 10, "num_agents": 4, "num_teams": 2}


def test_the_spec_is_the_two_arm_design():
    from metta.env.presets import get_preset
    from metta.experiments.spec import load_spec

    spec = load_spec(SPEC)
    assert spec.preset == "metta-kin-dilemma" and spec.grid == {} and get_preset(spec.preset).kinship.has_arms
    assert spec.seeds >= 5 and spec.seeds * spec.env_steps <= 100_000_000        # fixed in docs/dilemma.md
    assert spec.evaluation.paired and spec.evaluation.probes and spec.evaluation.reference_episodes > 0
    assert any(p.background_seed_offset == 1 for p in spec.crossplay.pairs) and not spec.crossplay.options
    # what docs/dilemma.md fixed before the main run is what the spec runs
    fixed = open(os.path.join(ROOT, "docs", "dilemma.md")).read().split("### Fixed before the main run")[1]
    fixed = fixed.split("\n## ")[0]
    assert f"**{spec.seeds} runs**" in fixed and f"seeds 0–{spec.seeds - 1}" in fixed
    assert spec.env_steps == 16_000_000 and "**1.6 × 10^7 agent-steps**" in fixed
    assert f"seeds 0–{spec.evaluation.episodes - 1}" in fixed and spec.train_flags == [
        "--vector_envs=12", "--curriculum=kin_dilemma"] and "`--vector_envs=12 --curriculum=kin_dilemma`" in fixed


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("kin_flagship")
    spec = {"name": "tiny_arms", "preset": "metta-kin-dilemma", "grid": {}, "seeds": 2, "env_steps": 1000,
            "evaluation": {"episodes": 3, "max_steps": 60, "paired": True, "probes": True, "reference_episodes": 1},
            "train_flags": TINY,
            "crossplay": {"episodes": 2, "max_steps": 40, "options": MAP,
                          "pairs": [{"name": "convention", "focal": {}, "background": {},
                                     "background_seed_offset": 1}]}}
    path = root / "tiny.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    proc = command(path, "--train_dir", root / "td", "--pause_between", 0, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return root / "td" / "tiny_arms"


def pooled(stats, arm, kin, chances_kin, strangers, chances_strangers):
    rows = [m for e in stats["episodes"] for m in e["agents"].values() if m["team_reward"] == arm]
    return [sum(m[k] for m in rows) for k in (kin, chances_kin, strangers, chances_strangers)]


@pytest.mark.slow
def test_the_contrast_and_its_interval_recomputed_from_the_runs_files(tiny):
    flagship = json.loads((tiny / "flagship.json").read_text())
    arms = flagship["arms"]
    contrasts = []
    for run in ("seed_0", "seed_1"):
        stats = json.loads((tiny / run / "eval" / "stats.json").read_text())
        assert [(e["seed"], e["swapped"]) for e in stats["episodes"]] == [(k, s) for k in range(3)
                                                                          for s in (False, True)]
        logs = {}
        for arm in (0.0, 1.0):
            hk, ck, hs, cs = pooled(stats, arm, "attacks_on_kin_actionable", "attack_actionable_kin",
                                    "attacks_on_strangers_actionable", "attack_actionable_strangers")
            # Jeffreys' half event on each side; no ratio without chances or without any event
            logs[arm] = (math.log((hk + 0.5) / (hs + 0.5) * cs / ck) if ck and cs and hk + hs else None)
        contrast = None if None in logs.values() else logs[1.0] - logs[0.0]
        mine = next(r for r in arms["runs"] if r["run"] == run)["values"]
        assert mine["contrast"] == pytest.approx(contrast) if contrast is not None else mine["contrast"] is None
        contrasts.append(contrast)
        # the probe value per arm: the sum of the episodes' tallies over their count
        for arm in ("alpha_0", "alpha_1"):
            n = sum(e["probes"]["by_arm"][arm]["actionable"]["n"] for e in stats["episodes"]
                    if arm in e["probes"]["by_arm"])
            total = sum(e["probes"]["by_arm"][arm]["actionable"]["sum"] for e in stats["episodes"]
                        if arm in e["probes"]["by_arm"])
            probe = mine["arms"][arm]["probe"]["actionable"]
            assert probe["n"] == n and (probe["mean"] == pytest.approx(total / n) if n else probe["mean"] is None)
    c = arms["summary"]["contrast"]
    given = [x for x in contrasts if x is not None]
    assert c["n"] == len(given)
    if len(given) == 2:
        mean, sd = sum(given) / 2, abs(given[0] - given[1]) / math.sqrt(2)
        assert c["mean"] == pytest.approx(mean)
        assert (c["lo"], c["hi"]) == pytest.approx((mean - T_975_DF1 * sd / math.sqrt(2),
                                                    mean + T_975_DF1 * sd / math.sqrt(2)))


@pytest.mark.slow
def test_the_page_and_the_cross_play_per_arm(tiny):
    flagship = json.loads((tiny / "flagship.json").read_text())
    page = (tiny / "flagship.html").read_text()
    assert "Both arms in every run" in page and 'src="arms.png"' in page and (tiny / "arms.png").stat().st_size
    pair = flagship["crossplay"][0]
    assert pair["runs"] == [["seed_0", "seed_1"], ["seed_1", "seed_0"]]
    by_arm = pair["across_pairs"]["crossplay"]["by_arm"]
    assert set(by_arm) <= {"alpha_0", "alpha_1"} and by_arm
    assert flagship["arms"]["reference_hearts"] is not None
    assert json.loads((tiny / "reference.json").read_text())["population"] == "peaceful"


@pytest.mark.slow
def test_the_page_opens_offline_in_chromium(tiny, browser):
    browser.get_log("browser")
    browser.get(f"file://{tiny / 'flagship.html'}")
    done = browser.execute_script("return document.readyState")
    assert done == "complete"
    heading = browser.find_element("tag name", "h2").text
    assert heading == "Cross-play" and "Both arms in every run" in browser.find_element("tag name", "body").text
    # the figure is the run's own file, drawn; every resource the page asked for is local
    width = browser.execute_script("const i = document.querySelector('img[src=\"arms.png\"]');"
                                   "return i && i.complete ? i.naturalWidth : -1")
    assert width > 0
    linked = browser.execute_script("return [...document.querySelectorAll('[src], [href]')]"
                                    ".map(e => e.src || e.href)")
    assert linked and all(u.startswith("file://") for u in linked), linked
    assert [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")] == []
