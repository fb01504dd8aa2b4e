"""Seeds as the unit: the Mantel–Haenszel ratio per seed, the t-interval across seeds and the power line against
hand-computed numbers; a sweep report built from fabricated stats.json files says n = seeds."""
import json
import math
import os
import re

import pytest

T_975 = {1: 12.706204736174707, 2: 4.302652729749464}   # Student's t, 0.975 quantile (any table)
T_80 = {1: math.tan(0.3 * math.pi), 2: 1.0606601717798212}  # 0.80 quantile: Cauchy's tan(0.3π) at df 1; df 2 table

# one seed's episodes as (hits on kin, kin chances, hits on strangers, stranger chances)
SEED_A = [(2, 10, 1, 20), (0, 5, 3, 15)]
SEED_B = [(1, 4, 0, 4), (1, 6, 0, 2)]   # no stranger hit at all: the 0.5 correction
RR_A = (2 * 20 / 30 + 0 * 15 / 20) / (1 * 10 / 30 + 3 * 5 / 20)          # = 16/13
RR_B = (1.5 * 4 / 8 + 1.5 * 2 / 8) / (0.5 * 4 / 8 + 0.5 * 6 / 8)         # = 9/5


def test_mantel_haenszel_ratio_by_hand():
    from metta.experiments.seed_stats import mh_rate_ratio

    a = mh_rate_ratio(SEED_A)
    assert a["ratio"] == pytest.approx(16 / 13, rel=1e-12) and a["ratio"] == pytest.approx(RR_A)
    assert a["log_ratio"] == pytest.approx(math.log(16 / 13)) and not a["corrected"]
    assert a["rate_kin"] == pytest.approx(2 / 15) and a["rate_strangers"] == pytest.approx(4 / 35)
    b = mh_rate_ratio(SEED_B)
    assert b["ratio"] == pytest.approx(9 / 5, rel=1e-12) and b["ratio"] == pytest.approx(RR_B) and b["corrected"]
    # an episode with no stranger hit still counts (it is not dropped): without it seed A's ratio would be 4
    assert mh_rate_ratio(SEED_A[:1])["ratio"] == pytest.approx(4.0)
    # episodes with only one kind of chance add nothing; none informative: no ratio
    assert mh_rate_ratio(SEED_A + [(0, 0, 5, 9), (3, 7, 0, 0)])["ratio"] == pytest.approx(16 / 13)
    assert mh_rate_ratio([(0, 0, 5, 9)])["ratio"] is None


def test_t_interval_and_power_across_seeds_by_hand():
    from metta.experiments.seed_stats import across_seeds

    logs = [math.log(16 / 13), math.log(9 / 5)]
    mean, sd = sum(logs) / 2, abs(logs[0] - logs[1]) / math.sqrt(2)
    half = T_975[1] * sd / math.sqrt(2)
    s = across_seeds([16 / 13, 9 / 5], log=True)
    assert s["n"] == 2 and s["mean"] == pytest.approx(math.sqrt(16 / 13 * 9 / 5))  # the geometric mean
    assert s["lo"] == pytest.approx(math.exp(mean - half)) and s["hi"] == pytest.approx(math.exp(mean + half))
    assert s["power"]["detectable"] == pytest.approx(math.exp(half))
    assert s["power"]["mdr80"] == pytest.approx(math.exp((T_975[1] + T_80[1]) * sd / math.sqrt(2)))
    # three seeds, linear scale: mean ± t_{0.975,2}·sd/√3
    s3 = across_seeds([1.0, 2.0, 4.0])
    sd3 = math.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 2)
    assert s3["n"] == 3 and s3["hi"] == pytest.approx(7 / 3 + T_975[2] * sd3 / math.sqrt(3))
    r3 = across_seeds([1.0, 2.0, 4.0], log=True)
    assert r3["power"]["mdr80"] == pytest.approx(math.exp((T_975[2] + T_80[2]) * math.log(2) / math.sqrt(3)))
    one = across_seeds([1.5], log=True)
    assert one["n"] == 1 and one["lo"] is None and one["power"]["note"] == "no interval: one seed"


def agent(hk, ck, hs, cs, hearts):
    return {"hearts": hearts, "attacks_on_kin": hk, "attacks_on_strangers": hs, "attack_chances_kin": ck,
            "attack_chances_strangers": cs, "gifts_to_kin": 0, "gifts_to_strangers": 0, "gift_chances_kin": 0,
            "gift_chances_strangers": 0, "equality": None}


def fabricate(sweep_dir, seeds_per_point):
    """A sweep description and each run's eval/stats.json: two episodes of two agents per run. Seed A's and B's
    tables (above) are split over the two agents of each episode, so the pooled counts are the tables'."""
    tables, runs = [SEED_A, SEED_B, [(1, 5, 1, 5), (2, 5, 1, 5)]], []
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
        rr_c = (1 * 5 / 10 + 2 * 5 / 10) / (1 * 5 / 10 + 1 * 5 / 10)
        assert r["n"] == 3 and r["seeds"] == pytest.approx([RR_A, RR_B, rr_c]) and r["corrected"] == 1
        assert r["mean"] == pytest.approx((RR_A * RR_B * rr_c) ** (1 / 3))
        pooled_kin = point["metrics"]["attack_rate_kin"]["seeds"][0]
        assert pooled_kin == pytest.approx(2 / 15)  # seed A pooled: 2 kin hits over 15 kin chances
        assert point["metrics"]["gift_kin_stranger_ratio"]["mean"] is None  # no gift chances anywhere
    cells = re.findall(r'<td data-metric="hearts" data-point="\d">([^<]*)</td>', page)
    assert len(cells) == 2 and all(c.endswith("(n=3 seeds)") for c in cells)
    assert "smallest ratio distinguishable from 1 at 95%" in page and "n = 3 seeds" in page
    assert page.count('data-seed="team_reward_0_seed_1" ') >= 1 and "1.8*" in page  # per seed, corrected marked
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
