"""The flagship run's report in docs/dilemma.md ("The main run") against the run's own results file, committed beside
it (docs/results/kin_dilemma/flagship.json, the experiment's flagship.json as written): every table in the section
is what the file holds, and the contrasts, their intervals, their p and their power lines are recomputed here from
each run's pooled counts and probe means with scipy only, none of the report's code."""
import json
import math
import os

import pytest
from scipy import optimize, stats

from conftest import ROOT

RESULTS = os.path.join(ROOT, "docs", "results", "kin_dilemma", "flagship.json")
DOC = os.path.join(ROOT, "docs", "dilemma.md")


@pytest.fixture(scope="module")
def flagship():
    with open(RESULTS) as f:
        return json.load(f)


def main_run_section() -> str:
    text = open(DOC).read()
    assert "\n## The main run" in text, "docs/dilemma.md has no section '## The main run'"
    return text.split("\n## The main run")[1].split("\n## ")[0]


def log_ratio(cell):
    """Kin over stranger rate of pooled counts, with Jeffreys' half event on each side; None without chances or
    without any event."""
    hk, ck, hs, cs = (cell[k] for k in ("hits_kin", "chances_kin", "hits_strangers", "chances_strangers"))
    if not ck or not cs or hk + hs == 0:
        return None
    return math.log((hk + 0.5) / ck) - math.log((hs + 0.5) / cs)


def across(xs):
    """Mean, sd, 95% t-interval, two-sided p against 0, and the |effect| a two-sided one-sample t-test at 0.05
    detects with 80% power (noncentral t, solved here)."""
    n = len(xs)
    mean = sum(xs) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    se = sd / math.sqrt(n)
    t = stats.t.ppf(0.975, n - 1)
    p = 2 * stats.t.sf(abs(mean / se), n - 1)

    def power(d):
        nc = d * math.sqrt(n)
        return stats.nct.sf(t, n - 1, nc) + stats.nct.cdf(-t, n - 1, nc) - 0.8

    d80 = optimize.brentq(power, 0.01, 20)
    return {"mean": mean, "sd": sd, "lo": mean - t * se, "hi": mean + t * se, "p": p, "mde80": d80 * sd, "n": n}


def test_the_runs_are_the_fixed_design(flagship):
    spec = flagship["spec"]
    assert spec["seeds"] == 6 and spec["env_steps"] == 16_000_000 and flagship["env_steps"] == 16_000_000
    runs = flagship["arms"]["runs"]
    assert [r["run"] for r in runs] == [f"seed_{k}" for k in range(6)]        # no run left out
    assert all(r["episodes"] == 2 * 64 for r in runs)                         # 64 seeds, each with the arms swapped


def test_each_runs_contrast_from_its_counts(flagship):
    for r in flagship["arms"]["runs"]:
        v = r["values"]
        logs = {label: log_ratio(v["arms"][label]["attack_actionable"]) for label in ("alpha_0", "alpha_1")}
        mine = None if None in logs.values() else logs["alpha_1"] - logs["alpha_0"]
        assert v["contrast"] == (pytest.approx(mine) if mine is not None else None), r["run"]
        d = {label: v["arms"][label]["probe"]["actionable"]["mean"] for label in ("alpha_0", "alpha_1")}
        assert v["probe_contrast"] == pytest.approx(d["alpha_1"] - d["alpha_0"]), r["run"]


@pytest.mark.parametrize("key", ["contrast", "probe_contrast"])
def test_the_contrasts_across_runs_recomputed(flagship, key):
    xs = [r["values"][key] for r in flagship["arms"]["runs"] if r["values"][key] is not None]
    mine, theirs = across(xs), flagship["arms"]["summary"][key]
    for k in ("mean", "sd", "lo", "hi", "p", "mde80", "n"):
        assert theirs[k] == pytest.approx(mine[k], rel=1e-6), k
    # the section states them as the report does: mean [lo, hi], p, and the power line
    section = main_run_section()
    assert f"{mine['mean']:+.3f} [{mine['lo']:+.3f}, {mine['hi']:+.3f}]" in section
    assert f"{mine['mde80']:.3f}" in section


def test_every_table_in_the_section_is_the_results_file(flagship):
    from metta.experiments.arms_page import markdown_tables

    section = main_run_section()
    for name, table in markdown_tables(flagship).items():
        assert table in section, f"docs/dilemma.md, 'The main run': the {name} table is not the results file's"


def test_the_reading_names_the_decision_the_numbers_make(flagship):
    c = flagship["arms"]["summary"]["contrast"]
    shown = c["p"] is not None and c["p"] < 0.025
    section = main_run_section()
    assert ("Shown at p < 0.025" in section) == shown
    assert flagship["arms"]["reading"] in section
