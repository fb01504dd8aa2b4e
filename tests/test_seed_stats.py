"""Seeds as the unit: the rate ratio per seed (pooled counts, half a hit added to each count), the old
Mantel–Haenszel ratio kept for comparison, the t-interval across seeds and the power line against hand-computed
numbers; a sweep report built from fabricated stats.json files says n = seeds."""
import json
import math
import os
import re

import pytest

T_975 = {1: 12.706204736174707, 2: 4.302652729749464}   # Student's t, 0.975 quantile (any table)
D_80 = {2: 11.5499, 3: 3.2640}  # smallest d detected with 80% power, two-sided one-sample t at 5% (noncentral t)

# one seed's episodes as (hits on kin, kin chances, hits on strangers, stranger chances)
SEED_A = [(2, 10, 1, 20), (0, 5, 3, 15)]
SEED_B = [(1, 4, 0, 4), (1, 6, 0, 2)]   # no stranger hit at all
SEED_C = [(1, 5, 1, 5), (2, 5, 1, 5)]
# the new per-seed ratio: pooled counts, (hk + 1/2)/(hs + 1/2) * cs/ck
RR_A = 2.5 / 4.5 * 35 / 15        # = 35/27
RR_B = 2.5 / 0.5 * 6 / 10         # = 3
RR_C = 3.5 / 2.5 * 10 / 10        # = 7/5
# the old Mantel-Haenszel ratios of A and B
MH_A = (2 * 20 / 30 + 0 * 15 / 20) / (1 * 10 / 30 + 3 * 5 / 20)          # = 16/13
MH_B = (1.5 * 4 / 8 + 1.5 * 2 / 8) / (0.5 * 4 / 8 + 0.5 * 6 / 8)         # = 9/5


def test_seed_ratio_is_the_pooled_jeffreys_ratio_by_hand():
    from metta.experiments.seed_stats import rate_ratio

    a = rate_ratio(SEED_A)
    assert a["ratio"] == pytest.approx(35 / 27, rel=1e-12) and a["ratio"] == pytest.approx(RR_A)
    assert a["rate_kin"] == pytest.approx(2 / 15) and a["rate_strangers"] == pytest.approx(4 / 35)
    assert not a["zero_count"] and not a["no_events"] and a["lo"] < RR_A < a["hi"]
    b = rate_ratio(SEED_B)
    # no stranger hit: still a ratio, its interval open above; lo from p^2 = 0.025 (2 events, both on kin)
    lo_p = math.sqrt(0.025)
    assert b["ratio"] == pytest.approx(3.0, rel=1e-12) and b["zero_count"] and b["hi"] == math.inf
    assert b["lo"] == pytest.approx(lo_p / (1 - lo_p) * 6 / 10, rel=1e-9)
    assert rate_ratio(SEED_C)["ratio"] == pytest.approx(7 / 5, rel=1e-12)


def test_old_mantel_haenszel_ratio_by_hand():
    from metta.experiments.seed_stats import mh_rate_ratio

    a = mh_rate_ratio(SEED_A)
    assert a["ratio"] == pytest.approx(16 / 13, rel=1e-12) and a["ratio"] == pytest.approx(MH_A)
    assert a["log_ratio"] == pytest.approx(math.log(16 / 13)) and not a["corrected"]
    assert a["rate_kin"] == pytest.approx(2 / 15) and a["rate_strangers"] == pytest.approx(4 / 35)
    b = mh_rate_ratio(SEED_B)
    assert b["ratio"] == pytest.approx(9 / 5, rel=1e-12) and b["ratio"] == pytest.approx(MH_B) and b["corrected"]
    # an episode with no stranger hit still counts (it is not dropped): without it seed A's ratio would be 4
    assert mh_rate_ratio(SEED_A[:1])["ratio"] == pytest.approx(4.0)
    # episodes with only one kind of chance add nothing; none informative: no ratio
    assert mh_rate_ratio(SEED_A + [(0, 0, 5, 9), (3, 7, 0, 0)])["ratio"] == pytest.approx(16 / 13)
    assert mh_rate_ratio([(0, 0, 5, 9)])["ratio"] is None


def test_t_interval_and_power_across_seeds_by_hand():
    from metta.experiments.seed_stats import across_seeds

    logs = [math.log(RR_A), math.log(RR_B)]
    mean, sd = sum(logs) / 2, abs(logs[0] - logs[1]) / math.sqrt(2)
    half = T_975[1] * sd / math.sqrt(2)
    s = across_seeds([RR_A, RR_B], log=True)
    assert s["n"] == 2 and s["mean"] == pytest.approx(math.sqrt(RR_A * RR_B))  # the geometric mean
    assert s["lo"] == pytest.approx(math.exp(mean - half)) and s["hi"] == pytest.approx(math.exp(mean + half))
    assert s["power"]["detectable"] == pytest.approx(math.exp(half))
    assert s["power"]["mdr80"] == pytest.approx(math.exp(D_80[2] * sd), rel=1e-3)
    # three seeds, linear scale: mean ± t_{0.975,2}·sd/√3; the seeds without a value are left out
    s3 = across_seeds([1.0, None, 2.0, 4.0])
    sd3 = math.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 2)
    assert s3["n"] == 3 and s3["hi"] == pytest.approx(7 / 3 + T_975[2] * sd3 / math.sqrt(3))
    r3 = across_seeds([1.0, 2.0, 4.0], log=True)  # log sd = log 2
    assert r3["power"]["mdr80"] == pytest.approx(math.exp(D_80[3] * math.log(2)), rel=1e-3)
    one = across_seeds([1.5], log=True)
    assert one["n"] == 1 and one["lo"] is None and one["power"]["note"] == "no interval: one seed"


def agent(hk, ck, hs, cs, hearts):
    return {"hearts": hearts, "attacks_on_kin": hk, "attacks_on_strangers": hs, "attack_chances_kin": ck,
            "attack_chances_strangers": cs, "gifts_to_kin": 0, "gifts_to_strangers": 0, "gift_chances_kin": 0,
            "gift_chances_strangers": 0, "equality": None}


def fabricate(sweep_dir, seeds_per_point):
    """A sweep description and each run's eval/stats.json: two episodes of two agents per run. Seed A's and B's
    tables (above) are split over the two agents of each episode, so the pooled counts are the tables'."""
    tables, runs = [SEED_A, SEED_B, SEED_C], []
    hearts = {}
    for alpha in ("0", "1"):
        for seed in range(seeds_per_point):
            name = f"team_reward_{alpha}_seed_{seed}"
            episodes = []
            for e, (hk, ck, hs, cs) in enumerate(tables[seed]):
                h = (seed + 1) * (e + 1) + int(alpha)
                agents = {"agent_0": agent(hk, ck - 1 if ck else 0, hs, cs, h),
                          "agent_1": agent(0, 1 if ck else 0, 0, 0, h + 2)}
                episodes.append({"seed": e, "steps": 30, "replay": None, "agents": agents})
                hearts.setdefault(name, []).append(h + 1)
            os.makedirs(os.path.join(sweep_dir, name, "eval"))
            with open(os.path.join(sweep_dir, name, "eval", "stats.json"), "w") as f:
                json.dump({"episodes": episodes, "max_steps": 30, "video": None}, f)
            runs.append({"name": name, "params": {"team_reward": alpha}, "seed": seed, "command": "train ..."})
    desc = {"name": "fab", "env": "metta-teams", "grid": {"team_reward": ["0", "1"]},
            "seeds": list(range(seeds_per_point)), "env_steps": 1000, "train_flags": [], "runs": runs}
    return desc, hearts


def test_sweep_report_from_fabricated_stats_says_n_equals_seeds(tmp_path):
    from metta.experiments.sweep_report import text_table, write_report

    desc, hearts = fabricate(str(tmp_path), 3)
    results = write_report(desc, str(tmp_path))
    page = (tmp_path / "report.html").read_text()
    assert len(results["rows"]) == 12 and len(results["seeds"]) == 6
    for point in results["summary"]:
        runs = point["runs"]
        assert len(runs) == 3
        h = point["metrics"]["hearts"]
        per_seed = [sum(hearts[r]) / len(hearts[r]) for r in runs]  # per-seed mean over episodes, then over seeds
        assert h["n"] == 3 and h["seeds"] == pytest.approx(per_seed)
        mean = sum(per_seed) / 3
        sd = math.sqrt(sum((x - mean) ** 2 for x in per_seed) / 2)
        assert h["mean"] == pytest.approx(mean) and h["hi"] == pytest.approx(mean + T_975[2] * sd / math.sqrt(3))
        r = point["metrics"]["attack_kin_stranger_ratio"]
        assert r["n"] == 3 and r["seeds"] == pytest.approx([RR_A, RR_B, RR_C])
        assert (r["zero_count"], r["no_events"], r["undefined"]) == (1, 0, 0)  # seed B: no stranger hit
        assert r["mean"] == pytest.approx((RR_A * RR_B * RR_C) ** (1 / 3))
        pooled_kin = point["metrics"]["attack_rate_kin"]["seeds"][0]
        assert pooled_kin == pytest.approx(2 / 15)  # seed A pooled: 2 kin hits over 15 kin chances
        assert point["metrics"]["gift_kin_stranger_ratio"]["mean"] is None  # no gift chances anywhere
    cells = re.findall(r'<td data-metric="hearts" data-point="\d">([^<]*)</td>', page)
    assert len(cells) == 2 and all(c.endswith("(n=3 seeds)") for c in cells)
    assert "smallest ratio distinguishable from 1 at 95%" in page and "n = 3 seeds" in page
    seed_b = re.findall(r'<td data-seed="team_reward_\d_seed_1" data-metric="attack_kin_stranger_ratio">([^<]*)</td>',
                        page)
    assert seed_b == ["3*", "3*"]  # per seed, a ratio resting on a zero count marked
    assert ">– 0 events</td>" not in page  # every seed has events (gifts: no chances, so no ratio, plain –)
    b = results["seeds"][1]["ratios"]["attack"]
    assert b["hi"] is None and b["lo"] == pytest.approx(math.sqrt(0.025) / (1 - math.sqrt(0.025)) * 6 / 10)
    json.dumps(results["seeds"], allow_nan=False)  # an unbounded interval end is stored as None
    assert os.path.isfile(tmp_path / "plots" / "attack_kin_stranger_ratio.png")
    text = text_table(results)
    assert "n = 3 seeds" in text and "80% power" in text


def test_one_seed_report_says_no_interval(tmp_path):
    from metta.experiments.sweep_report import write_report

    desc, _ = fabricate(str(tmp_path), 1)
    results = write_report(desc, str(tmp_path))
    page = (tmp_path / "report.html").read_text()
    assert all(p["metrics"]["hearts"]["n"] == 1 and p["metrics"]["hearts"]["lo"] is None for p in results["summary"])
    assert "no interval: one seed" in page


def test_a_seed_without_events_has_no_ratio_and_the_report_says_so():
    from metta.experiments import seed_stats
    from metta.experiments.sweep_report import _seed_cell

    metrics = ["attack_rate_kin", "attack_rate_strangers", "attack_kin_stranger_ratio"]
    quiet = {"episodes": [{"agents": {"agent_0": agent(0, 10, 0, 50, 1)}},
                          {"agents": {"agent_0": agent(0, 8, 0, 70, 1)}}]}
    seed = seed_stats.seed_values(quiet, [], metrics)
    # no event: the pooled rates are 0, the ratio would be the prior's cs/ck = 120/18, which is not data: none
    assert seed["values"] == {"attack_rate_kin": 0.0, "attack_rate_strangers": 0.0, "attack_kin_stranger_ratio": None}
    assert seed["ratios"]["attack"]["no_events"] and seed["ratios"]["attack"]["ratio"] == pytest.approx(120 / 18)
    assert seed_stats.no_events(seed, "attack_kin_stranger_ratio") and _seed_cell(seed, "attack_kin_stranger_ratio") \
        == "– 0 events"
    loud = seed_stats.seed_values({"episodes": [{"agents": {"agent_0": agent(1, 10, 3, 60, 1)}}]}, [], metrics)
    assert loud["values"]["attack_kin_stranger_ratio"] == pytest.approx(1.5 / 3.5 * 6)
    seeds = [{**seed, "run": "quiet", "params": {"a": 1}}, {**loud, "run": "loud", "params": {"a": 1}}]
    (point,) = seed_stats.summarize({}, seeds, metrics)
    cell = point["metrics"]["attack_kin_stranger_ratio"]
    assert (cell["n"], cell["no_events"], cell["undefined"], cell["zero_count"]) == (1, 1, 1, 0)
    assert cell["mean"] == pytest.approx(1.5 / 3.5 * 6)
    assert "1 seed(s) without a ratio (1 with no event at all)" in seed_stats.power_line("r", {**cell, "power": {
        "detectable": 2.0, "mdr80": 3.0}, "lo": 1.0, "hi": 4.0, "sd": 0.5})


def test_a_ratio_of_zero_is_left_out_of_the_log_scale_and_counted():
    from metta.experiments.seed_stats import across_seeds, power_line

    s = across_seeds([0.0, 2.0, 8.0], log=True)      # geometric mean of 2 and 8 is 4; the 0 has no log
    assert s["zero"] == 1 and s["n"] == 2 and s["mean"] == pytest.approx(4.0)
    assert "1 seed(s) with a ratio of 0 left out" in power_line("gift_actionable_kin_stranger_ratio", s)
    none = across_seeds([0.0, 0.0], log=True)
    assert none["mean"] is None and none["zero"] == 2
    assert "(2 with a ratio of 0)" in power_line("gift_actionable_kin_stranger_ratio", none)
