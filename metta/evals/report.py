"""The eval suite's report: an HTML page with the score table, a plot and the scenario videos."""
from __future__ import annotations

import html
import os

from metta.evals.stats import fisher_exact
from metta.runtime.files import atomic_path, write_text


def _fmt(r: dict) -> str:
    lo, hi = r["ci95"]
    return f"{r['rate']:.2f} [{lo:.2f}, {hi:.2f}] ({r['successes']}/{r['episodes']})"


def plot_scores(results: dict, baseline: dict | None, path: str) -> None:
    """Success rates with 95% intervals per scenario, beside the baseline's when there is one (PNG)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = list(results["scenarios"])
    runs = [(results["policy"], results)] + ([(baseline["policy"], baseline)] if baseline else [])
    fig = Figure(figsize=(8, 0.5 + 0.55 * len(names) * len(runs)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    height = 0.8 / len(runs)
    for j, (label, run) in enumerate(runs):
        rows = [run["scenarios"].get(n) for n in names]
        ys = [i + j * height for i, r in enumerate(rows) if r]
        rates = [r["rate"] for r in rows if r]
        err = [[max(0.0, r["rate"] - r["ci95"][0]) for r in rows if r],
               [max(0.0, r["ci95"][1] - r["rate"]) for r in rows if r]]
        ax.barh(ys, rates, height=height, xerr=err, capsize=3, label=label)
    ax.set_yticks([i + height * (len(runs) - 1) / 2 for i in range(len(names))], names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("success rate (95% Wilson interval)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)


def comparison(results: dict, baseline: dict, name: str) -> dict | None:
    """The baseline's score on scenario ``name`` and Fisher's exact p-value of the difference."""
    r, b = results["scenarios"][name], baseline["scenarios"].get(name)
    if b is None:
        return None
    return {"baseline": b, "p_value": fisher_exact(r["successes"], r["episodes"], b["successes"], b["episodes"])}


def curve_section(curve: dict | None) -> str:
    """The report's learning curve: ``curve.png`` and each point's rates (metta.evals.curve)."""
    if not curve or not curve["points"]:
        return ""
    e = html.escape
    names = list(curve["points"][0]["scenarios"])
    rows = "".join("<tr><td>" + f"{p['agent_steps']:,d}" + "</td>" + "".join(
        f"<td>{_fmt(p['scenarios'][n])}</td>" for n in names) + "</tr>" for p in curve["points"])
    return (f"<h2>Learning curve</h2><p>{len(curve['points'])} of the {curve['kept']} checkpoints the run kept, "
            f"same scenarios, episodes and seeds.</p>"
            f"<p><img src=\"curve.png\" alt=\"success rate per scenario against agent-steps\"></p>"
            f"<table><tr><th>agent-steps</th>{''.join(f'<th>{e(n)}</th>' for n in names)}</tr>{rows}</table>")


def write_report(results: dict, out_dir: str, baseline: dict | None = None, curve: dict | None = None) -> str:
    """Write ``report.html`` and ``scores.png`` in ``out_dir`` (with ``curve``, a learning-curve section showing
    ``curve.png``); return the report's path."""
    os.makedirs(out_dir, exist_ok=True)
    plot_scores(results, baseline, os.path.join(out_dir, "scores.png"))
    e = html.escape
    head = ["scenario", "what it measures", "success", f"{e(results['policy'])}: rate [95% CI]"]
    if baseline:
        head += [f"{e(baseline['policy'])} (baseline): rate [95% CI]", "p (Fisher exact)"]
    rows = []
    for name, r in results["scenarios"].items():
        cells = [f"<b>{e(name)}</b>", e(r["measures"]), e(r["success"]), _fmt(r)]
        if baseline:
            c = comparison(results, baseline, name)
            if c is None:
                cells += ["not run", ""]
            else:
                mark = " *" if c["p_value"] < 0.05 else ""
                cells += [_fmt(c["baseline"]), f"{c['p_value']:.3g}{mark}"]
        rows.append("<tr>" + "".join(f"<td>{x}</td>" for x in cells) + "</tr>")
    videos = "".join(
        f"<figure><figcaption>{e(name)}: episode 1 (seed {results['seed']}), "
        f"{'success' if r['per_episode'][0] else 'failure'}</figcaption>"
        f"<video controls loop muted width=\"360\" src=\"videos/{e(r['video'])}\"></video>"
        + (f"<br><small>replay: <code>videos/{e(r['replay'])}</code> (<code>python -m metta.viz.replay</code> "
           f"writes its viewer)</small>" if r.get("replay") else "") + "</figure>"
        for name, r in results["scenarios"].items() if r.get("video"))
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Metta eval suite: {e(results['policy'])}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top}} \
figure{{display:inline-block;margin:0 1em 1em 0}}</style>
</head><body>
<h1>Eval suite: {e(results['policy'])}</h1>
<p>{results['episodes']} episode(s) per scenario, seeds {results['seed']}..{results['seed'] + results['episodes'] - 1}.
Scores are success rates with 95% Wilson intervals\
{'; * marks p &lt; 0.05 in a two-sided Fisher exact test against the baseline' if baseline else ''}.</p>
<table><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr>
{chr(10).join(rows)}
</table>
<p><img src="scores.png" alt="success rates per scenario"></p>
{curve_section(curve)}
<h2>Videos</h2>
{videos or '<p>none recorded</p>'}
</body></html>
"""
    path = os.path.join(out_dir, "report.html")
    write_text(path, page)
    return path
