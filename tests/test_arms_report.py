"""The kin dilemma's reading (metta.experiments.arms_report) against numbers computed by hand from fabricated
evaluations: per-arm rate ratios of pooled actionable counts, the contrast between arms, the paired differences, the
probe means, and the t-interval across runs; and the report's Markdown tables (metta.experiments.arms_page) show
those hand numbers."""
import math

import pytest

from metta.experiments import arms_page, arms_report

T_DF2 = 4.302652729911275   # the 0.975 quantile of Student's t with 2 degrees of freedom (tables)


def agent(arm, hearts, hk, ck, hs, cs):
    return {"team_reward": arm, "hearts": hearts, "raw_reward": hearts + 0.5, "reward": hearts,
            "attacks_on_kin_actionable": hk, "attack_actionable_kin": ck,
            "attacks_on_strangers_actionable": hs, "attack_actionable_strangers": cs,
            "attacks_on_kin": hk, "attack_chances_kin": 2 * ck, "attacks_on_strangers": hs,
            "attack_chances_strangers": 2 * cs}


def evaluation(scale=1):
    """Two seeds, each played twice with the arms swapped; agents a and b are in one team, c and d in the other."""
    episodes = []
    for seed in (0, 1):
        for swapped in (False, True):
            ab, cd = (1.0, 0.0) if not swapped else (0.0, 1.0)
            # the sharers (alpha 1) attack kin once in 40 actionable chances and strangers 4 times in 40;
            # the selfish attack kin 2 times in 20 and strangers 2 times in 20 (as often)
            agents = {}
            for name, arm, hearts in (("a", ab, 2 + seed), ("b", ab, 1), ("c", cd, 3), ("d", cd, 0)):
                counts = (1, 20, 2 * scale, 20) if arm == 1.0 else (1, 10, 1, 10)
                agents[name] = agent(arm, hearts + (2 if arm == 1.0 else 0), *counts)
            probes = {"by_arm": {"alpha_1": {"actionable": {"n": 4, "sum": 4 * 0.5}, "in_reach": {"n": 8, "sum": 2.0}},
                                 "alpha_0": {"actionable": {"n": 2, "sum": 2 * 0.1}, "in_reach": {"n": 4, "sum": 0.0}}}}
            episodes.append({"seed": seed, "swapped": swapped, "agents": agents, "probes": probes})
    return {"episodes": episodes}


def test_one_runs_values_by_hand():
    v = arms_report.run_values(evaluation())
    one, zero = v["arms"]["alpha_1"], v["arms"]["alpha_0"]
    # pooled over 4 episodes x 2 agents per arm: sharers 8 kin hits / 160 chances, 16 / 160 on strangers
    r1 = one["attack_actionable"]
    assert (r1["hits_kin"], r1["chances_kin"], r1["hits_strangers"], r1["chances_strangers"]) == (8, 160, 16, 160)
    assert r1["ratio"] == pytest.approx((8.5 / 16.5) * (160 / 160))
    r0 = zero["attack_actionable"]
    assert (r0["hits_kin"], r0["chances_kin"], r0["hits_strangers"], r0["chances_strangers"]) == (8, 80, 8, 80)
    assert r0["ratio"] == pytest.approx(1.0)
    assert v["contrast"] == pytest.approx(math.log(8.5 / 16.5) - math.log(1.0))
    # probes: 4 x 0.5 over 4 states per episode, 2 x 0.1 over 2: the means are 0.5 and 0.1
    assert one["probe"]["actionable"] == {"n": 16, "mean": pytest.approx(0.5)}
    assert zero["probe"]["in_reach"] == {"n": 16, "mean": pytest.approx(0.0)}
    assert v["probe_contrast"] == pytest.approx(0.4)
    # hearts: a sharer earns 2 more than the same agent on the same map when selfish; per seed the mean over agents
    paired = v["paired"]["hearts"]
    assert paired["mean"] == pytest.approx(2.0) and paired["n"] == 2
    # hearts per agent-episode per arm: sharers 2 + {2+s, 1, 3, 0} over both plays and seeds
    assert one["hearts"] == pytest.approx(2 + (2 + 3 + 1 + 1 + 3 + 3 + 0 + 0) / 8)


def test_across_runs_by_hand():
    runs = []
    for scale in (1, 2, 4):     # the sharers' stranger hits double: their contrast falls by log 2 a run
        runs.append({"run": f"seed_{scale}", "values": arms_report.run_values(evaluation(scale)),
                     "curves": {"alpha_0": {"half": 1.0, "full": 2.0}, "alpha_1": {"half": 0.5, "full": 1.5}}})
    contrasts = [math.log(8.5 / (16 * s + 0.5)) for s in (1, 2, 4)]
    s = arms_report.summarize(runs)
    c = s["contrast"]
    mean = sum(contrasts) / 3
    sd = math.sqrt(sum((x - mean) ** 2 for x in contrasts) / 2)
    assert c["n"] == 3 and c["mean"] == pytest.approx(mean)
    assert (c["lo"], c["hi"]) == pytest.approx((mean - T_DF2 * sd / math.sqrt(3), mean + T_DF2 * sd / math.sqrt(3)))
    assert s["arms"]["alpha_1"]["learning_full"]["mean"] == pytest.approx(1.5)
    assert s["runs_without_contrast"] == []
    text = arms_report.reading(s).split("Probe contrast")[0]
    shown = c["p"] < arms_report.PRIMARY_ALPHA      # Bonferroni over the two co-primary contrasts: 0.05 / 2
    assert ("Shown at p < 0.025" in text) == shown and ("Not shown at p < 0.025" in text) != shown
    assert f"{mean:+.3f}" in text


def test_a_run_without_an_attack_in_an_arm_has_no_contrast():
    stats = evaluation()
    for e in stats["episodes"]:
        for m in e["agents"].values():
            if m["team_reward"] == 0.0:
                m["attacks_on_kin_actionable"] = m["attacks_on_strangers_actionable"] = 0
    v = arms_report.run_values(stats)
    assert v["arms"]["alpha_0"]["attack_actionable"]["no_events"] and v["contrast"] is None


def test_a_run_without_arms_is_refused():
    stats = evaluation()
    for e in stats["episodes"]:
        for m in e["agents"].values():
            del m["team_reward"]
    with pytest.raises(ValueError, match="no 'team_reward'"):
        arms_report.run_values(stats)


def test_a_curve_has_plateaued_when_its_last_quarter_adds_at_most_a_tenth(tmp_path, monkeypatch):
    points = [(750, 2.0), (1000, 2.2)]
    monkeypatch.setattr(arms_report, "curve_task", lambda run_dir: None)
    monkeypatch.setattr("metta.bench.training.scalars.scalars",
                        lambda run_dir, tags: {"social/alpha_1/hearts": points})
    curves = arms_report.learning_curves(str(tmp_path), [1.0], 1000)
    assert curves["alpha_1"]["plateaued"] is True          # 2.2 <= 1.1 x 2.0
    points[1] = (1000, 2.3)
    assert arms_report.learning_curves(str(tmp_path), [1.0], 1000)["alpha_1"]["plateaued"] is False


def test_learning_curve_values():
    points = [(100, 1.0), (900, 2.0), (960, 4.0), (1000, 6.0), (2000, 9.0)]
    assert arms_report.curve_value(points, 1000) == pytest.approx(5.0)   # the points in [950, 1000]
    assert arms_report.curve_value(points, 500) == pytest.approx(1.0)    # none in [475, 500]: the last before
    assert arms_report.curve_value([], 500) is None


def test_one_runs_reading_as_text():
    v = arms_report.run_values(evaluation())
    text = arms_page.run_text("pilot", v, {"alpha_0": {"half": 1.0, "full": 2.0}}, 4.4)
    assert f"{math.log(8.5 / 16.5):+.3f}" in text and "probe contrast +0.400" in text
    assert "training hearts (alpha_0): half 1, full 2; scripted peaceful 4.4" in text


def test_the_markdown_tables_show_the_hand_numbers():
    runs = [{"run": f"seed_{scale}", "values": arms_report.run_values(evaluation(scale)),
             "curves": {"alpha_0": {"half": 1.0, "three_quarters": 1.5, "full": 2.0, "plateaued": False},
                        "alpha_1": {"half": 0.5, "three_quarters": 1.0, "full": 1.5, "plateaued": scale == 2}}}
            for scale in (1, 2)]
    s = arms_report.summarize(runs)
    report = {"runs": runs, "summary": s, "reading": arms_report.reading(s), "reference_hearts": 4.4,
              "env_steps": 1000}
    t = arms_page.markdown_tables({"arms": report, "crossplay": []})
    first = t["runs"].splitlines()[2]   # seed_1, alpha_0: 8 kin hits in 80 chances (100 per 1,000), as on strangers
    assert first.startswith("| seed_1 | alpha_0 |") and "| 100 (8 / 80) | 100 (8 / 80) | 1.00 [" in first
    second = t["runs"].splitlines()[3]  # alpha_1: 8 / 160 on kin (50 per 1,000), 16 / 160 on strangers
    assert "| 50 (8 / 160) | 100 (16 / 160) |" in second and "| +0.500 (16) |" in second
    assert f"| {math.log(8.5 / 16.5):+.3f} | +0.400 |" in first
    mean = (math.log(8.5 / 16.5) + math.log(8.5 / 32.5)) / 2
    assert f"| contrast, log RR(α = 1) − log RR(α = 0) | {mean:+.3f} [" in t["contrasts"]
    assert "| alpha_1 | 0.5 [0.5, 0.5] | 1.5 [1.5, 1.5] |" in t["learning"] and "| 1 of 2 | 4.4 |" in t["learning"]
    assert "| seed_2 | 1 | 1.5 | 2 | 0.5 | 1 | 1.5 |" in t["learning_runs"]
    assert t["reading"] == report["reading"]
    with pytest.raises(ValueError, match="no arms report"):
        arms_page.markdown_tables({"crossplay": []})
