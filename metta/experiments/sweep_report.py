"""A sweep's results: its runs' evaluation episodes, their summary per grid point with 95% intervals, and the report.

Written to ``TRAIN_DIR/NAME``: ``results.csv`` (tidy, one row per run and evaluation episode: the grid parameters, the
seed, the episode's seed and every metric), ``results.json`` (the sweep's description, the same rows, the summary),
``report.html`` (the summary table and one plot per metric against the swept parameter, in ``plots/``).

Samples. Each run's ``eval/stats.json`` (metta.evals.evaluate) holds each agent's metrics per episode (the
env's ``infos[a]["episode"]``). A sample is one (run, episode): the mean over agents of every numeric metric (None,
undefined for that episode, is left out; a metric with no value is None), plus the kin-directed rates per chance:
``attack_rate_kin = Σ attacks_on_kin / Σ attack_chances_kin`` over the episode's agents, ``attack_rate_strangers``
likewise, ``attack_kin_stranger_ratio`` = their ratio, and the same for gifts; None when a denominator is 0 or the
counts are not in the stats.

Summary: seeds are the unit (metta.experiments.seed_stats). Per run, each metric is first averaged over its
evaluation episodes; kin-directed rates pool the run's counts (Σ hits / Σ chances over its episodes and agents) and
the kin/stranger ratio is metta.evals.stats.rate_ratio of those pooled counts, (hk + ½)/(hs + ½) · cs/ck, with its
exact conditional-binomial interval (a run with no event at all has no ratio). Per grid point, over its runs: the
mean, n = seeds and the 95% t-interval mean ± t_{0.975, n−1} · sd / √n, for ratios on the log scale and
exponentiated, with the power line (the smallest ratio the seeds' spread can tell from 1, and the one detected with
80% power). The per-episode values stay in ``results.csv`` as description only.
"""
from __future__ import annotations

import csv
import html
import io
import json
import os

import numpy as np

from metta.experiments import seed_stats
from metta.runtime.files import atomic_path, write_json, write_text
from metta.society.metrics import DIRECTED as DIRECTED_COUNTERS

# rate prefix -> its kin and stranger counts, as the env names them (metta.society.metrics)
DIRECTED = {prefix: (f"{hit}_kin", f"{hit}_strangers") for prefix, hit in DIRECTED_COUNTERS.values()}
ROW_KEYS = ("run", "seed", "episode", "episode_seed", "steps")  # beside the grid parameters and the metrics
UNITS = {
    "hearts": "hearts per agent per episode", "diamonds_harvested": "diamonds per agent per episode",
    "energy_converted": "energy points per agent per episode", "frozen_steps": "frozen steps per agent per episode",
    "shield_steps": "shielded steps per agent per episode", "bonds_formed": "bonds per agent per episode",
    "reward": "shared reward per agent per episode (1 = a heart)",
    "raw_reward": "own reward per agent per episode (1 = a heart)",
    "efficiency": "own reward of all agents per step", "equality": "1 − Gini of own returns (1 = equal)",
    "sustainability": "mean step of an agent's positive rewards", "peace": "share of agent-steps not frozen",
}


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def unit(metric: str) -> str:
    """What a metric's values measure, for an axis label."""
    if metric in UNITS:
        return UNITS[metric]
    if metric.endswith("_kin_stranger_ratio"):
        return "rate on kin / rate on strangers (1 = blind to kinship)"
    for prefix in DIRECTED:
        if metric.startswith(f"{prefix}_rate_"):
            return f"{prefix}s per chance (an agent in reach for a step)"
        if metric.startswith(f"{prefix}_chances_"):
            return "chances (agents in reach × steps) per agent per episode"
    for prefix in ("attacks_on_", "gifts_to_"):
        if metric.startswith(prefix):
            return f"{prefix.split('_')[0]} per agent per episode"
    return "per agent per episode"


def episode_sample(agents: list[dict]) -> dict:
    """One episode's sample: each numeric metric's mean over agents, and the kin-directed rates (module docstring)."""
    out = {}
    for key in dict.fromkeys(k for a in agents for k, v in a.items() if v is None or _number(v)):
        values = [a[key] for a in agents if _number(a.get(key))]
        out[key] = float(np.mean(values)) if values else None

    def total(key):
        values = [a[key] for a in agents if _number(a.get(key))]
        return sum(values) if values else None

    for prefix, counts in DIRECTED.items():
        names = (f"{prefix}_rate_kin", f"{prefix}_rate_strangers", f"{prefix}_kin_stranger_ratio")
        rates = {}
        for who, count in zip(("kin", "strangers"), counts):
            hits, chances = total(count), total(f"{prefix}_chances_{who}")
            if hits is not None and chances is not None:
                rates[who] = hits / chances if chances else None
        if len(rates) == 2:  # the counts are there: the rates from them (an env that gives its own agrees)
            kin, strangers = rates["kin"], rates["strangers"]
            out.update(zip(names, (kin, strangers, kin / strangers if kin is not None and strangers else None)))
        else:
            for name in names:
                out.setdefault(name, None)
    return out


def _value(text: str):
    """A grid value as a number when it is one (for the x axis), else the text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def collect(desc: dict, sweep_dir: str) -> list[dict]:
    """One row per (run, evaluation episode), in the sweep's run order (module docstring)."""
    rows = []
    for run in desc["runs"]:
        path = os.path.join(sweep_dir, run["name"], "eval", "stats.json")
        with open(path, encoding="utf-8") as f:
            stats = json.load(f)
        for k, episode in enumerate(stats["episodes"]):
            rows.append({"run": run["name"], **{p: _value(v) for p, v in run["params"].items()}, "seed": run["seed"],
                         "episode": k, "episode_seed": episode["seed"], "steps": episode["steps"],
                         **episode_sample(list(episode["agents"].values()))})
    return rows


def metric_names(desc: dict, rows: list[dict]) -> list[str]:
    skip = set(ROW_KEYS) | set(desc["grid"])
    return list(dict.fromkeys(k for r in rows for k in r if k not in skip))


def summarize(desc: dict, rows: list[dict], seeds: list[dict]) -> list[dict]:
    """Per grid point (in grid order): its runs, and each metric's mean, sd, n (= seeds) and 95% t-interval over its
    runs' per-seed values (``seeds``: metta.experiments.seed_stats.per_seed)."""
    return seed_stats.summarize(desc, seeds, metric_names(desc, rows), value=_value)


def label(params: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items()) or "all runs"


def fmt(s: dict) -> str:
    """A summary cell: mean [lo, hi] (n seeds); a ratio's mean is the seeds' geometric mean."""
    if s["mean"] is None:
        return "–"
    if s["n"] == 1:
        return f"{s['mean']:.4g} (n=1 seed: {seed_stats.ONE_SEED})"
    interval = f" [{s['lo']:.4g}, {s['hi']:.4g}]" if s["lo"] is not None else ""
    return f"{s['mean']:.4g}{interval} (n={s['n']} seeds)"


def plot_metric(desc: dict, summary: list[dict], metric: str, path: str) -> None:
    """The metric against the first grid parameter, one line per value of the others, error bars its 95% interval."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    keys = list(desc["grid"])
    x_key, rest = (keys[0], keys[1:]) if keys else (None, [])
    xs = list(dict.fromkeys(p["params"][x_key] for p in summary)) if x_key else ["all runs"]
    numeric = all(_number(x) for x in xs)
    position = {x: (float(x) if numeric else i) for i, x in enumerate(xs)}
    lines: dict[str, list[dict]] = {}  # a line's label -> its points
    for p in summary:
        lines.setdefault(label({k: p["params"][k] for k in rest}), []).append(p)
    fig = Figure(figsize=(5.2, 3.6))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    span = (max(position.values()) - min(position.values())) or 1.0
    for j, (name, points) in enumerate(lines.items()):
        dodge = (j - (len(lines) - 1) / 2) * 0.015 * span  # keeps the lines' error bars apart
        shown = [(position[p["params"][x_key]] if x_key else 0, p["metrics"][metric]) for p in points
                 if p["metrics"][metric]["mean"] is not None]
        x = [px + dodge for px, _ in shown]
        y = [s["mean"] for _, s in shown]
        err = [[s["mean"] - s["lo"] if s["lo"] is not None else np.nan for _, s in shown],
               [s["hi"] - s["mean"] if s["hi"] is not None else np.nan for _, s in shown]]
        line = ax.errorbar(x, y, yerr=err, fmt="o-", capsize=4, label=name if rest else "mean, 95% t-interval")
        for px, s in shown:  # each seed's own value, beside the mean
            dots = [v for v in s["seeds"] if v is not None]
            ax.plot([px + dodge + 0.03 * span] * len(dots), dots, ".", color=line[0].get_color(), alpha=0.6,
                    label="seeds" if px == shown[0][0] and j == 0 else None)
    if not numeric:
        ax.set_xticks(list(position.values()), [str(x) for x in xs])
    if any(p["metrics"][metric].get("scale") == "log" and p["metrics"][metric]["mean"] for p in summary):
        ax.set_yscale("log")
        ax.axhline(1.0, color="grey", lw=0.8, ls="--")  # blind to kinship
    ax.set_xlabel(f"{x_key} (training flag --{x_key})" if x_key else "")
    ax.set_ylabel(unit(metric), fontsize=8)
    n = sorted({p["metrics"][metric]["n"] for p in summary})
    ax.set_title(f"{metric} ({desc['env']}; n = {n[0] if len(n) == 1 else f'{n[0]}–{n[-1]}'} seeds per point)",
                 fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(title=", ".join(rest) + " (95% t-intervals over seeds)" if rest else None, fontsize=8, title_fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)


def write_csv(path: str, rows: list[dict], columns: list[str]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: "" if r.get(c) is None else r[c] for c in columns} for r in rows)
    write_text(path, buf.getvalue())


def write_report(desc: dict, sweep_dir: str) -> dict:
    """Collect the runs' evaluations, write results.csv, results.json, plots/ and report.html; return the results."""
    rows = collect(desc, sweep_dir)
    metrics = metric_names(desc, rows)
    seeds = seed_stats.per_seed(desc, sweep_dir, rows, metrics)
    summary = summarize(desc, rows, seeds)
    with open(os.path.join(sweep_dir, desc["runs"][0]["name"], "eval", "stats.json"), encoding="utf-8") as f:
        first = json.load(f)
    evaluation = {"episodes": len(first["episodes"]), "seeds": [e["seed"] for e in first["episodes"]],
                  "max_steps": first["max_steps"], "agents": len(first["episodes"][0]["agents"])}
    results = {"sweep": desc, "evaluation": evaluation, "metrics": metrics,
               "interval": "95% t-interval over each grid point's seeds (n = seeds; per-seed values are episode "
                           "means, pooled rates and rate ratios of the pooled counts, (hk+0.5)/(hs+0.5)*cs/ck; "
                           "ratios on the log scale): "
                           "mean ± t_{0.975,n-1} sd/√n",
               "rows": rows, "seeds": seeds, "summary": summary}
    write_csv(os.path.join(sweep_dir, "results.csv"), rows, ["run", *desc["grid"], *ROW_KEYS[1:], *metrics])
    write_json(os.path.join(sweep_dir, "results.json"), results)
    plotted = [m for m in metrics if any(p["metrics"][m]["mean"] is not None for p in summary)]
    os.makedirs(os.path.join(sweep_dir, "plots"), exist_ok=True)
    for m in plotted:
        plot_metric(desc, summary, m, os.path.join(sweep_dir, "plots", f"{m}.png"))
    write_text(os.path.join(sweep_dir, "report.html"), page(results, plotted))
    return results


def page(results: dict, plotted: list[str]) -> str:
    e, desc, ev = html.escape, results["sweep"], results["evaluation"]
    summary = results["summary"]
    head = "".join(f"<th>{e(label(p['params']))}<br><small>{len(p['runs'])} seed(s)</small></th>" for p in summary)
    rows = "".join(
        f"<tr><td><b>{e(m)}</b><br><small>{e(unit(m))}</small></td>"
        + "".join(f'<td data-metric="{e(m)}" data-point="{i}">{e(fmt(p["metrics"][m]))}</td>'
                  for i, p in enumerate(summary)) + "</tr>" for m in results["metrics"])
    plots = "".join(f'<figure><img src="plots/{e(m)}.png" alt="{e(m)} against the grid" width="520"></figure>'
                    for m in plotted)
    runs = "".join(f"<li><a href=\"{e(r['name'])}/eval/stats.json\">{e(r['name'])}</a>: "
                   f"<code>{e(r['command'])}</code></li>" for r in desc["runs"])
    grid = ", ".join(f"{k} ∈ {{{', '.join(v)}}}" for k, v in desc["grid"].items()) or "no grid"
    ratios = [m for m in results["metrics"] if seed_stats.is_ratio(m)]
    power = "".join(f"<li>{e(label(p['params']))}: {e(seed_stats.power_line(m, p['metrics'][m]))}</li>"
                    for m in ratios for p in summary)
    shown = [m for m in results["metrics"] if not m.endswith(("_chances_kin", "_chances_strangers"))]
    per_seed = "".join(
        f"<tr><td>{e(s['run'])}</td><td>{s['episodes']}</td>"
        + "".join(f'<td data-seed="{e(s["run"])}" data-metric="{e(m)}">'
                  f'{_seed_cell(s, m)}</td>'
                  for m in shown) + "</tr>" for s in results["seeds"])
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Metta sweep: {e(desc['name'])}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top}} figure{{display:inline-block;margin:0 1em 1em 0}}
code{{font-size:85%}}</style>
</head><body>
<h1>Sweep {e(desc['name'])}: {e(desc['env'])}</h1>
<p>Grid: {e(grid)}; seeds {e(', '.join(map(str, desc['seeds'])))}; {desc['env_steps']:,} agent-steps of training per run
{('with <code>' + e(' '.join(desc['train_flags'])) + '</code>') if desc['train_flags'] else ''}.
Evaluation: every run's final policy on the same {ev['episodes']} episodes (seeds {e(', '.join(map(str, ev['seeds'])))})
of {ev['max_steps']} steps × {ev['agents']} agents.</p>
<p>Seeds are the unit: each cell is mean [95% interval] (n seeds) over the grid point's runs. A run's value is the
mean over its evaluation episodes of the mean over agents; its rates per chance pool its counts (Σ kin-directed
actions / Σ agent-steps a kin (stranger) stood in reach, over all its episodes and agents); its kin/stranger ratio
is the rate ratio of its pooled counts, (h<sub>kin</sub> + ½)/(h<sub>strangers</sub> + ½) · c<sub>strangers</sub>/
c<sub>kin</sub> (h hits, c chances; half a hit added to each count, Jeffreys' prior of the exact conditional binomial),
marked * below when the run has no kin or no stranger hit (its exact interval is open on that side); a run with no
event at all has no ratio (– 0 events below) and is left out. The interval is mean ± t<sub>0.975, n−1</sub>·sd/√n
over the seeds; ratios on the log scale, exponentiated (the mean is the seeds' geometric mean). One seed gives no
interval. – means no value.</p>
<table><tr><th>metric</th>{head}</tr>
{rows}</table>
<h2>Power</h2>
<p>The smallest kin/stranger ratio the design can tell from 1 at 95%, exp(t<sub>0.975, n−1</sub>·s/√n), and the
ratio a two-sided t-test at 5% would detect with 80% power, exp(d·s), d the smallest standardized effect with that
power at n seeds (exact noncentral t), s being the sd of the seeds' log ratios:</p>
<ul>{power or "<li>no kin-directed counts in the evaluations</li>"}</ul>
<h2>Per seed</h2>
<table><tr><th>run</th><th>episodes</th>{"".join(f"<th>{e(m)}</th>" for m in shown)}</tr>
{per_seed}</table>
<h2>Metrics against the grid</h2>
<p>Each seed's value (dots) beside the mean over seeds and its 95% interval.</p>
{plots}
<h2>Runs</h2>
<ul>{runs}</ul>
<p>Data: <a href="results.csv">results.csv</a>, <a href="results.json">results.json</a>.</p>
</body></html>
"""


def _cell(v) -> str:
    return "–" if v is None else f"{v:.4g}"


def _seed_cell(seed: dict, metric: str) -> str:
    """A seed's value; a ratio resting on a zero count is marked *, a ratio missing for want of events says so."""
    if seed_stats.no_events(seed, metric):
        return "– 0 events"
    return _cell(seed["values"].get(metric)) + ("*" if seed_stats.zero_count(seed, metric) else "")


def text_table(results: dict) -> str:
    """The summary as text: one line per metric, one column per grid point (its values), mean ±half-interval."""
    summary, keys = results["summary"], list(results["sweep"]["grid"])
    heads = [",".join(str(v) for v in p["params"].values()) or "all runs" for p in summary]
    width = max(12, *map(len, heads))
    lines = [f"{(','.join(keys) or 'metric'):>28}" + "".join(f" {h:>{width}}" for h in heads)]
    for m in results["metrics"]:
        cells = []
        for p in summary:
            s = p["metrics"][m]
            if s["mean"] is None or s["hi"] is None:
                cells.append("-" if s["mean"] is None else f"{s['mean']:.3g}")
            elif s.get("scale") == "log":  # asymmetric: the interval itself
                cells.append(f"{s['mean']:.3g} [{s['lo']:.2g},{s['hi']:.2g}]")
            else:
                cells.append(f"{s['mean']:.3g} ±{s['hi'] - s['mean']:.2g}")
        lines.append(f"{m:28}" + "".join(f" {c:>{width}}" for c in cells))
    n = sorted({s["n"] for p in summary for s in p["metrics"].values()})
    lines.append(f"mean ± half the 95% t-interval over each point's seeds (n = "
                 f"{n[0] if len(n) == 1 else f'{n[0]}..{n[-1]}'} seeds; ratios: geometric mean [interval]; - no value)")
    lines += [f"{label(p['params'])}: {seed_stats.power_line(m, p['metrics'][m])}"
              for m in results["metrics"] if seed_stats.is_ratio(m) for p in summary]
    return "\n".join(lines)
