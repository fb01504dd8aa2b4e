"""The kinship experiment's reading, shown (metta.experiments.arms_report computes it): the contrast per run and the
learning curves per arm as a figure (``arms.png``), the section of ``flagship.html``, one run's reading as text, and
the tables of docs/dilemma.md's report as Markdown.

    python -m metta.experiments.arms_page train_dir/kin_dilemma/flagship.json      # the report's tables, Markdown

Every number shown is read from the report (``flagship.json["arms"]`` and its cross-play summaries); nothing here
computes a statistic.
"""
from __future__ import annotations

import html
import sys

from metta.runtime.files import atomic_path, read_json


def plot(report: dict, path: str, reference: float | None) -> None:
    """Two panels: each run's contrast with the mean and its interval; hearts per agent against agent-steps per arm,
    every run, with the scripted population's hearts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs, summary = report["runs"], report["summary"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    values = [(r["run"], r["values"]["contrast"], r["values"]["probe_contrast"]) for r in runs]
    for k, (name, c, p) in enumerate(values):
        if c is not None:
            left.plot([c], [k], "o", color="tab:blue")
        if p is not None:
            left.plot([p], [k], "s", color="tab:orange", alpha=0.7)
    for key, y, colour, label in (("contrast", -1.2, "tab:blue", "contrast (log RR)"),
                                  ("probe_contrast", -1.8, "tab:orange", "probe contrast (log p)")):
        s = summary[key]
        if s["mean"] is not None:
            left.plot([s["mean"]], [y], "D", color=colour, label=f"{label}, mean over n = {s['n']}")
            if s["lo"] is not None:
                left.plot([s["lo"], s["hi"]], [y, y], color=colour, lw=2)
    left.axvline(0, color="grey", lw=1)
    left.set_yticks([*range(len(values)), -1.2, -1.8],
                    [v[0] for v in values] + ["contrast, mean", "probe contrast, mean"])
    left.set_ylim(-2.3, len(values) - 0.5)
    left.set_xlabel("α = 1 minus α = 0 (below 0: sharers spare kin more)")
    left.set_title("contrast per run, mean [95% CI]")
    left.legend(fontsize=8, loc="lower right")
    colours = {"alpha_0": "tab:red", "alpha_1": "tab:green"}
    for r in runs:
        for label, curve in r["curves"].items():
            pts = curve["points"]
            if pts:
                right.plot([s for s, _ in pts], [v for _, v in pts], color=colours.get(label, None), alpha=0.5,
                           lw=1, label=label if r is runs[0] else None)
    if reference is not None:
        right.axhline(reference, color="black", ls="--", lw=1, label="scripted peaceful population")
        right.axhline(reference / 2, color="black", ls=":", lw=1, label="half of it")
    right.set_xlabel("agent-steps")
    right.set_ylabel("hearts per agent per episode (training)")
    right.set_title("learning curves per arm, every run")
    right.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def _fmt(v, digits: str = ".3g") -> str:
    return "–" if v is None else format(v, digits)


def _ci(s: dict | None, digits: str = ".3g", scale=lambda x: x) -> str:
    if not s or s.get("mean") is None:
        return "–"
    ci = f" [{format(scale(s['lo']), digits)}, {format(scale(s['hi']), digits)}]" if s.get("lo") is not None else ""
    return f"{format(scale(s['mean']), digits)}{ci}"


def _rate(r: dict | None) -> str:
    if not r:
        return "–"
    ratio = "no events" if r["no_events"] else f"{r['ratio']:.2f} [{_fmt(r['lo'], '.2f')}, {_fmt(r['hi'], '.2f')}]"
    return (f"{int(r['hits_kin'])} / {int(r['chances_kin']):,} · {int(r['hits_strangers'])} / "
            f"{int(r['chances_strangers']):,} → {ratio}")


def section(report: dict, crossplay: list[dict] | None = None) -> str:
    """The HTML of the arms' reading (for flagship.html): the reading, the contrasts across runs, every run's values
    per arm, the paired evaluation, the learning curves, and cross-play per focal arm."""

    e = html.escape
    s = report["summary"]
    arms = list(s["arms"])
    c, p = s["contrast"], s["probe_contrast"]

    def across(x: dict, what: str) -> str:
        if x["mean"] is None:
            return f"<tr><td>{what}</td><td colspan=5>no run has a value</td></tr>"
        return (f"<tr><td>{what}</td><td>{_ci(x, '+.3f')}</td><td>{x['n']}</td><td>{_fmt(x['p'])}</td>"
                f"<td>{_fmt(x['detectable'], '.3f')}</td><td>{_fmt(x['mde80'], '.3f')}</td></tr>")

    rows = []
    for r in report["runs"]:
        v = r["values"]
        for k, label in enumerate(arms):
            a = v["arms"][label]
            first = f"<td rowspan={len(arms)}>{e(r['run'])}</td>" if k == 0 else ""
            tail = (f"<td rowspan={len(arms)}>{_fmt(v['contrast'], '+.3f')}</td>"
                    f"<td rowspan={len(arms)}>{_fmt(v['probe_contrast'], '+.3f')}</td>") if k == 0 else ""
            rows.append(f"<tr>{first}<td>{e(label)}</td><td>{_fmt(a['hearts'])}</td>"
                        f"<td>{e(_rate(a['attack_actionable']))}</td><td>{e(_rate(a['gift_actionable']))}</td>"
                        f"<td>{_fmt(a['probe']['actionable']['mean'], '+.3f')} (n {a['probe']['actionable']['n']})"
                        f"</td>{tail}</tr>")
    paired = "".join(f"<tr><td>{e(k)}</td><td>{_ci(v, '+.3g')}</td><td>{v['n']}</td></tr>"
                     for k, v in s["paired"].items())
    curves = "".join(f"<tr><td>{e(label)}</td><td>{_ci(s['arms'][label]['learning_half'])}</td>"
                     f"<td>{_ci(s['arms'][label]['learning_full'])}</td><td>{_ci(s['arms'][label]['hearts'])}</td>"
                     f"<td>{s['arms'][label]['plateaued']} of {len(report['runs'])}</td></tr>" for label in arms)
    ref = report.get("reference_hearts")
    cross = ""
    for pair in crossplay or []:
        by = (pair["across_pairs"].get("crossplay") or {}).get("by_arm") or {}
        res = (pair["across_pairs"].get("resident") or {}).get("by_arm") or {}
        cross += "".join(
            f"<tr><td>{e(pair['name'])}</td><td>{e(label)}</td><td>{_ci(cell.get('focal_return'))}</td>"
            f"<td>{_ci((res.get(label) or {}).get('focal_return'))}</td><td>{_ci(cell.get('return_vs_resident'))}"
            f"</td><td>{_ci(cell.get('focal_kin_stranger_ratio'))}</td></tr>" for label, cell in by.items())
    return f"""
<h2>Both arms in every run: the reading</h2>
<p>{e(report['reading'])}</p>
<p><img src="{e(report['figure'])}" alt="contrast per run and learning curves per arm" width="900"></p>
<table><tr><th>across runs</th><th>mean [95% CI]</th><th>n runs</th><th>p</th><th>|effect| whose CI excludes 0</th>
<th>|effect| detected with 80% power</th></tr>
{across(c, "contrast: log RR(α=1) − log RR(α=0), attacks per actionable chance")}
{across(p, "probe contrast: d(α=1) − d(α=0), actionable states")}</table>
<h3>Per run and arm</h3>
<p>Hits on kin / actionable kin chances · on strangers / actionable stranger chances → rate ratio [exact 95%];
probe: mean d = log p(attack | shown as a stranger) − log p(attack | shown as kin).</p>
<table><tr><th>run</th><th>arm</th><th>hearts / agent</th><th>attacks</th><th>gifts</th><th>probe</th>
<th>contrast</th><th>probe contrast</th></tr>{''.join(rows)}</table>
<h3>Paired evaluation (arms swapped, same maps): α = 1 minus α = 0, per agent-episode, mean over runs</h3>
<table><tr><th>metric</th><th>mean [95% CI]</th><th>n runs</th></tr>{paired}</table>
<h3>Learning: hearts per agent in training, at half and at the full budget
({report['env_steps'] // 2:,} and {report['env_steps']:,} agent-steps)</h3>
<p>Scripted peaceful population on this preset: {_fmt(ref)} hearts per agent per episode.</p>
<table><tr><th>arm</th><th>half</th><th>full</th><th>evaluation</th><th>runs plateaued (the last quarter added
at most 10%)</th></tr>{curves}</table>
<h3>Cross-play per focal arm (the focal team's drawn α)</h3>
<table><tr><th>pair</th><th>focal arm</th><th>focal return</th><th>resident return</th><th>focal − resident</th>
<th>focal kin/stranger ratio</th></tr>{cross}</table>
"""


def run_text(name: str, values: dict, curves: dict, reference: float | None) -> str:
    """One run's reading as text: per arm, its hearts, its rates and ratios, its probe value; the contrasts; the
    paired differences; the learning curve at half and full budget."""
    lines = [f"{name}"]
    for label, a in values["arms"].items():
        lines.append(f"  {label}: hearts {_fmt(a['hearts'])} per agent-episode ({a['agent_episodes']} agent-episodes), "
                     f"raw {_fmt(a['raw_reward'])}, shared {_fmt(a['reward'])}")
        for key in ("attack_actionable", "attack_reach", "gift_actionable"):
            lines.append(f"    {key:18s} kin · strangers → ratio: {_rate(a[key])}")
        p = a["probe"]
        lines.append(f"    probe d: actionable {_fmt(p['actionable']['mean'], '+.3f')} (n {p['actionable']['n']}), "
                     f"in reach {_fmt(p['in_reach']['mean'], '+.3f')} (n {p['in_reach']['n']})")
    lines.append(f"  contrast log RR(hi) - log RR(lo): {_fmt(values['contrast'], '+.3f')}; probe contrast "
                 f"{_fmt(values['probe_contrast'], '+.3f')}")
    for k, v in values["paired"].items():
        lines.append(f"  paired, hi - lo arm, {k}: {_ci(v, '+.3g')} (n = {v['n']} seeds)")
    for label, c in curves.items():
        lines.append(f"  training hearts ({label}): half {_fmt(c['half'])}, full {_fmt(c['full'])}"
                     + (f"; scripted peaceful {reference:.3g}" if reference is not None else ""))
    return "\n".join(lines)


def _per_chance(hits, chances) -> str:
    """Hits per 1,000 chances, with the counts."""
    if not chances:
        return f"{int(hits)} / 0"
    return f"{1000 * hits / chances:.3g} ({int(hits):,} / {int(chances):,})"


def _row(*cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(head: list[str], rows: list[list]) -> str:
    return "\n".join([_row(*head), _row(*["---"] * len(head)), *(_row(*r) for r in rows)])


def markdown_tables(flagship: dict) -> dict[str, str]:
    """The report's tables in Markdown, by name (``runs``, ``contrasts``, ``paired``, ``learning``,
    ``learning_runs``, ``crossplay``), and ``reading``, from a flagship.json with an ``arms`` report."""
    if "arms" not in flagship:
        raise ValueError("this flagship.json has no arms report (an experiment without evaluation.paired)")
    report = flagship["arms"]
    s = report["summary"]
    arms = list(s["arms"])
    runs = []
    for r in report["runs"]:
        v = r["values"]
        for k, label in enumerate(arms):
            a = v["arms"][label]
            att, gift = a["attack_actionable"] or {}, a["gift_actionable"] or {}
            ratio = ("no events" if not att or att["no_events"] else
                     f"{att['ratio']:.2f} [{_fmt(att['lo'], '.2f')}, {_fmt(att['hi'], '.2f')}]")
            probe = a["probe"]["actionable"]
            runs.append([r["run"] if k == 0 else "", label, _fmt(a["hearts"]),
                         _per_chance(att.get("hits_kin", 0), att.get("chances_kin", 0)),
                         _per_chance(att.get("hits_strangers", 0), att.get("chances_strangers", 0)), ratio,
                         _per_chance(gift.get("hits_kin", 0), gift.get("chances_kin", 0)),
                         _per_chance(gift.get("hits_strangers", 0), gift.get("chances_strangers", 0)),
                         f"{_fmt(probe['mean'], '+.3f')} ({probe['n']:,})",
                         _fmt(v["contrast"], "+.3f") if k == 0 else "",
                         _fmt(v["probe_contrast"], "+.3f") if k == 0 else ""])
    out = {"runs": _table(["run", "arm", "hearts / agent", "attacks on kin ‰", "attacks on strangers ‰",
                           "kin / stranger ratio [95%]", "gifts to kin ‰", "gifts to strangers ‰",
                           "probe d (states)", "contrast", "probe contrast"], runs)}
    out["contrasts"] = _table(
        ["estimand", "mean [95% CI]", "n runs", "p", "sd", "|effect| detected with 80% power"],
        [[what, _ci(c, "+.3f"), c["n"], _fmt(c["p"]), _fmt(c.get("sd"), ".3f"), _fmt(c["mde80"], ".3f")]
         for what, c in (("contrast, log RR(α = 1) − log RR(α = 0)", s["contrast"]),
                         ("probe contrast, d(α = 1) − d(α = 0)", s["probe_contrast"]))])
    out["paired"] = _table(["metric", f"{arms[-1]} − {arms[0]}, mean [95% CI]", "n runs"],
                           [[k, _ci(v, "+.3g"), v["n"]] for k, v in s["paired"].items()])
    ref = report.get("reference_hearts")
    out["learning"] = _table(
        ["arm", f"training hearts at {report['env_steps'] // 2:,}", f"at {report['env_steps']:,}",
         "evaluation hearts", "runs plateaued", "scripted peaceful"],
        [[label, _ci(s["arms"][label]["learning_half"]), _ci(s["arms"][label]["learning_full"]),
          _ci(s["arms"][label]["hearts"]), f"{s['arms'][label]['plateaued']} of {len(report['runs'])}", _fmt(ref)]
         for label in arms])
    out["learning_runs"] = _table(
        ["run", *(f"{label} {when}" for label in arms for when in ("half", "¾", "full"))],
        [[r["run"], *(_fmt((r["curves"].get(label) or {}).get(when))
                      for label in arms for when in ("half", "three_quarters", "full"))]
         for r in report["runs"]])
    cross = []
    for pair in flagship.get("crossplay") or []:
        by = (pair["across_pairs"].get("crossplay") or {}).get("by_arm") or {}
        res = (pair["across_pairs"].get("resident") or {}).get("by_arm") or {}
        for label, cell in by.items():
            cross.append([pair["name"], label, _ci(cell.get("focal_return")),
                          _ci((res.get(label) or {}).get("focal_return")), _ci(cell.get("return_vs_resident")),
                          _ci(cell.get("focal_kin_stranger_ratio")),
                          (cell.get("return_vs_resident") or {}).get("n", "–")])
    out["crossplay"] = _table(["pair", "focal arm", "focal return", "resident return", "focal − resident",
                               "focal kin / stranger ratio", "n pairs"], cross)
    out["reading"] = report["reading"]
    return out


def markdown(flagship: dict) -> str:
    """The report's tables and reading, in the order docs/dilemma.md shows them."""
    t = markdown_tables(flagship)
    return "\n\n".join(t[k] for k in ("runs", "contrasts", "paired", "learning", "learning_runs", "crossplay",
                                       "reading")) + "\n"


def main(argv=None) -> int:
    import argparse

    from metta.runtime.lifetime import run_command

    ap = argparse.ArgumentParser(prog="python -m metta.experiments.arms_page",
                                 description="Print an experiment's arms report as Markdown tables.")
    ap.add_argument("flagship", metavar="FLAGSHIP_JSON", help="TRAIN_DIR/NAME/flagship.json")
    args = ap.parse_args(argv)

    def body(stops):
        print(markdown(read_json(args.flagship, "flagship report")), end="")
        return 0

    return run_command(body)


if __name__ == "__main__":
    sys.exit(main())
