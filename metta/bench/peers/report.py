"""Pairs the interleaved rounds of ``devops/peer_bench.sh``: ``python -m metta.bench.peers.report --round M P ...``.

Each ``--round`` names one round's two JSON files, mettagrid's (``mettagrid_bench.py --json``) and the
project's (``python -m metta.bench.peers.project_bench --json``), timed one after the other. The machine's speed
swings from minute to minute, so what means something is each round's ratio (mettagrid's agent-steps/s over
the project's) and their median, not either figure alone. Prints a table, or with ``--json`` all of it.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys


def load(path: str, kind: str) -> dict:
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, json.JSONDecodeError) as err:
        raise SystemExit(f"error: {kind} round file {path}: {err}") from None
    needed = "apis" if kind == "mettagrid" else "timing"
    if needed not in data:
        raise SystemExit(f"error: {kind} round file {path} has no {needed!r}: not the output of its --json")
    return data


def differences(peer: dict, project: dict) -> list[str]:
    """What differs between the two games beyond speed, in words."""
    out = []
    pm, jm = peer["map"], project["map"]
    if (pm["width"], pm["height"]) != (jm["width"], jm["height"]):
        out.append(f"map: mettagrid {pm['width']}x{pm['height']}, project {jm['width']}x{jm['height']}")
    kinds = sorted(set(pm["objects"]) | set(jm["objects"]))
    counts = ", ".join(f"{k} {pm['objects'].get(k, 0)}/{jm['objects'].get(k, 0)}" for k in kinds
                       if pm["objects"].get(k, 0) != jm["objects"].get(k, 0))
    if counts:
        out.append(f"objects (mettagrid/project): {counts}")
    po, jo = peer["observation"], project["observation"]
    out.append(f"observation: mettagrid {po['kind']} {tuple(po['shape'])} from a {po['window'][0]}x{po['window'][1]} "
               f"window, project {jo['kind']} {tuple(jo['shape'])}")
    if len(peer["actions"]) != len(project["actions"]):
        out.append(f"actions: mettagrid {len(peer['actions'])} ({', '.join(peer['actions'])}), "
                   f"project {len(project['actions'])}")
    if peer["max_steps"] != project["max_steps"]:
        out.append(f"episode length: mettagrid {peer['max_steps']}, project {project['max_steps']}")
    return out


def build(pairs: list[tuple[dict, dict]]) -> dict:
    if not pairs:
        raise ValueError("no rounds to report")
    apis = list(pairs[0][0]["apis"])
    rounds = []
    for i, (peer, project) in enumerate(pairs, 1):
        p = project["timing"]["agent_steps_per_s"]
        m = {api: peer["apis"][api]["agent_steps_per_s"] for api in apis}
        rounds.append({"round": i, "mettagrid": m, "project": p, "ratio": {api: m[api] / p for api in apis}})
    peer, project = pairs[0]
    strip = ("apis", "timing")
    return {
        "rounds": rounds,
        "median_ratio": {api: statistics.median(r["ratio"][api] for r in rounds) for api in apis},
        "median_agent_steps_per_s": {
            **{f"mettagrid_{api}": statistics.median(r["mettagrid"][api] for r in rounds) for api in apis},
            "project": statistics.median(r["project"] for r in rounds)},
        "mettagrid": {k: v for k, v in peer.items() if k not in strip},
        "project": {k: v for k, v in project.items() if k not in strip},
        "differences": differences(peer, project),
        "raw": [{"mettagrid": m["apis"], "project": p["timing"]} for m, p in pairs],
    }


def format_table(report: dict) -> str:
    apis = list(report["median_ratio"])
    peer, project = report["mettagrid"], report["project"]
    head = (f"mettagrid {peer['version']} arena vs {project['env']} ({project['obs_backend']}), "
            f"{project['agents']} agents on {project['size']}x{project['size']}, random actions, one core, "
            f"each figure the median of {project['repeats']} runs of {project['steps']} steps (agent-steps/s)")
    cols = [f"{'mettagrid ' + a:>21}" for a in apis] + [f"{'project':>12}"] + \
           [f"{'ratio ' + a:>16}" for a in apis]
    lines = [head, f"  {'round':>5} " + " ".join(cols)]
    for r in report["rounds"]:
        cells = [f"{r['mettagrid'][a]:>21,.0f}" for a in apis] + [f"{r['project']:>12,.0f}"] + \
                [f"{r['ratio'][a]:>15.2f}x" for a in apis]
        lines.append(f"  {r['round']:>5} " + " ".join(cells))
    med = report["median_agent_steps_per_s"]
    cells = [f"{med['mettagrid_' + a]:>21,.0f}" for a in apis] + [f"{med['project']:>12,.0f}"] + \
            [f"{report['median_ratio'][a]:>15.2f}x" for a in apis]
    lines.append(f"  {'median':>5} " + " ".join(cells))
    lines.append("  (ratio: mettagrid over project within a round; the median ratio is the figure to quote)")
    lines.append("differences:")
    lines += [f"  - {d}" for d in report["differences"]]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m metta.bench.peers.report", description=__doc__.split("\n\n")[0])
    ap.add_argument("--round", nargs=2, action="append", metavar=("METTAGRID_JSON", "PROJECT_JSON"),
                    required=True, help="one round's two result files, in the order they ran")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    report = build([(load(m, "mettagrid"), load(p, "project")) for m, p in args.round])
    print(json.dumps(report, indent=2) if args.json else format_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
