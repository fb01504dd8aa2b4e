"""One experiment from its spec: the sweep, its evaluation and report, the cross-play pairs, and one page over them.

    python -m metta.experiments.run experiments/kinship_dilemma.yaml [--env_steps N] [--seeds N] \\
        [--backend processes|slurm] [--train_dir train_dir] [--dry_run] [sweep/launcher flags]

1. The sweep (metta.experiments.sweep, called in-process with the command line the spec gives): ``preset`` trained
   over ``grid`` x ``seeds`` for ``env_steps`` agent-steps a run, every final policy evaluated on
   ``evaluation.episodes`` episodes, and its report in ``TRAIN_DIR/NAME/`` (sweep.json, results.json, report.html).
   Finished runs are skipped and unfinished ones resume (the sweep's own rules: a rerun must describe the same
   sweep, and its budget may only grow).
2. Each cross-play pair (metta.evals.crossplay) over all seeds: the focal point's run of seed k among the background
   point's run of seed k + ``background_seed_offset`` (modulo the seeds; offset 1 with the same point is the
   convention control), on the preset with ``crossplay.options``, into ``TRAIN_DIR/NAME/crossplay/PAIR.json``. A
   report is reused when its inputs (the command and every run's latest checkpoint) are the ones recorded beside
   it in ``PAIR.inputs.json``; otherwise it is played again.
3. ``TRAIN_DIR/NAME/flagship.json`` (the spec, the sweep's per-grid-point summary, each pair's summary over pairs)
   and ``flagship.html`` (a link to the sweep's report.html and each pair's focal return against the resident
   population's, with 95% intervals over pairs of seeds and n), written atomically.

The budget scales by flag: ``--env_steps 100000000 --backend slurm`` runs the same spec at 10^8 agent-steps per run
as Slurm jobs (the sweep waits for them, then evaluates; cross-play runs where this command runs). ``--seeds``
changes the number of runs per grid point. Flags this command does not know go to the sweep (launcher flags such as
``--max_parallel 2`` or ``--slurm_partition P``). ``--dry_run`` prints the commands it would run and runs nothing.
An interrupted run resumes where it stood: rerun the same command. Exit status (metta.errors): 0; 1 for a bad spec,
a run that did not finish or failed work; 2 for a command line that cannot run.
"""
from __future__ import annotations

import argparse
import html
import os
import shlex
import sys

from metta.experiments.spec import Spec, grid_value, load_spec
from metta.runtime.files import read_json, write_json, write_text
from metta.runtime.lifetime import run_command

SWEEP = "python -m metta.experiments.sweep"
CROSSPLAY = "python -m metta.evals.crossplay"


def parse_cli(argv: list[str]):
    ap = argparse.ArgumentParser(prog="python -m metta.experiments.run", description=__doc__.split("\n\n")[0],
                                 epilog="Other flags go to the sweep (python -m metta.experiments.sweep --help). "
                                        "See docs/experiments.md, 'The flagship experiment'.")
    ap.add_argument("spec", metavar="SPEC", help="the experiment's YAML spec, e.g. experiments/kinship_dilemma.yaml")
    ap.add_argument("--env_steps", type=int, default=None, help="agent-steps per run (default: the spec's)")
    ap.add_argument("--seeds", type=int, default=None, help="runs per grid point (default: the spec's)")
    ap.add_argument("--backend", choices=("processes", "slurm"), default="processes",
                    help="where the runs train (default processes: this machine)")
    ap.add_argument("--train_dir", default="train_dir", help="everything goes to TRAIN_DIR/NAME (default train_dir)")
    ap.add_argument("--dry_run", action="store_true", help="print the commands it would run; run nothing")
    args, extra = ap.parse_known_args(argv)
    if "--" in extra:
        ap.error("training flags belong in the spec's train_flags, not after --")
    for flag, value in (("--env_steps", args.env_steps), ("--seeds", args.seeds)):
        if value is not None and value < 1:
            ap.error(f"{flag} must be >= 1, got {value}")
    args.sweep_flags = extra
    return args


def sweep_argv(spec: Spec, env_steps: int, seeds: int, backend: str, train_dir: str, extra: list[str]) -> list[str]:
    """The sweep's command line (after ``python -m metta.experiments.sweep``) for the spec at this budget."""
    argv = [spec.name, "--env", spec.preset]
    for key, values in spec.grid.items():
        argv += ["--grid", f"{key}={','.join(grid_value(v) for v in values)}"]
    argv += ["--seeds", str(seeds), "--env_steps", str(env_steps), "--episodes", str(spec.evaluation.episodes)]
    if spec.evaluation.max_steps is not None:
        argv += ["--eval_max_steps", str(spec.evaluation.max_steps)]
    argv += ["--paired"] * spec.evaluation.paired + ["--probes"] * spec.evaluation.probes
    argv += ["--train_dir", train_dir, "--backend", backend, *extra]
    return argv + (["--", *spec.train_flags] if spec.train_flags else [])


def pair_runs(spec: Spec, seeds: int) -> list[dict]:
    """Each cross-play pair with the sweep's run names it plays: ``runs`` = [(focal run, background run)] over the
    seeds in order, background seed shifted by the pair's offset."""
    from metta.errors import ConfigError
    from metta.experiments.sweep_plan import run_name

    out = []
    for i, p in enumerate(spec.crossplay.pairs):
        focal = spec.point(p.focal, f"crossplay.pairs[{i}].focal")
        background = spec.point(p.background, f"crossplay.pairs[{i}].background")
        runs = [(run_name(focal, k), run_name(background, (k + p.background_seed_offset) % seeds))
                for k in range(seeds)]
        same = [f for f, b in runs if f == b]
        if same:
            raise ConfigError(f"crossplay.pairs[{i}] ({p.name}): with {seeds} seed(s) and background_seed_offset "
                              f"{p.background_seed_offset} the run {same[0]} plays against itself (that is the "
                              f"resident condition); use more seeds or another offset")
        out.append({"name": p.name, "focal": focal, "background": background,
                    "background_seed_offset": p.background_seed_offset, "runs": runs})
    return out


def crossplay_argv(spec: Spec, pair: dict, sweep_dir: str) -> list[str]:
    """The cross-play command line (after ``python -m metta.evals.crossplay``) of one pair."""
    argv = ["--focal", *(f for f, _ in pair["runs"]), "--background", *(b for _, b in pair["runs"]),
            "--env", spec.preset]
    for key, value in spec.crossplay.options.items():
        argv += ["--option", f"{key}={grid_value(value)}"]
    argv += ["--episodes", str(spec.crossplay.episodes)]
    if spec.crossplay.max_steps is not None:
        argv += ["--max_steps", str(spec.crossplay.max_steps)]
    return argv + ["--train_dir", sweep_dir, "--out", os.path.join(sweep_dir, "crossplay", f"{pair['name']}.json")]


def crossplay_inputs(argv: list[str], pair: dict, sweep_dir: str) -> dict:
    """What a pair's report depends on: its command and every run's latest checkpoint (name, size, mtime)."""
    from metta.sf_integration.checkpoints import latest_checkpoint

    checkpoints: dict[str, list | None] = {}  # run -> its latest checkpoint's [name, size, mtime], None without one
    for run in sorted({r for fb in pair["runs"] for r in fb}):
        path = latest_checkpoint(os.path.join(sweep_dir, run))
        if path:
            st = os.stat(path)
            checkpoints[run] = [os.path.basename(path), st.st_size, st.st_mtime_ns]
        else:
            checkpoints[run] = None
    return {"argv": argv, "checkpoints": checkpoints}


def run_crossplay(spec: Spec, pair: dict, sweep_dir: str) -> int:
    from metta.evals import crossplay

    argv = crossplay_argv(spec, pair, sweep_dir)
    out = argv[-1]
    record = os.path.join(sweep_dir, "crossplay", f"{pair['name']}.inputs.json")
    inputs = crossplay_inputs(argv, pair, sweep_dir)
    if os.path.isfile(out) and os.path.isfile(record) and read_json(record, "cross-play inputs") == inputs:
        print(f"cross-play {pair['name']}: up to date ({out})")
        return 0
    print(f"cross-play {pair['name']}: {CROSSPLAY} {shlex.join(argv)}")
    code = crossplay.main(argv)
    if code == 0:
        write_json(record, inputs)
    return code


def cell(s: dict | None, digits: str = ".3g") -> str:
    if not s or s.get("mean") is None:
        return "–"
    ci = f" [{s['lo']:{digits}}, {s['hi']:{digits}}]" if s.get("lo") is not None else ""
    return f"{s['mean']:{digits}}{ci}"


def summary(spec: Spec, spec_path: str, args, env_steps: int, seeds: int, sweep_dir: str, pairs: list[dict]) -> dict:
    """flagship.json: the sweep's summary and each pair's numbers, as the sweep's and cross-play's files hold them."""
    results = read_json(os.path.join(sweep_dir, "results.json"), "sweep results")
    table = []
    for pair in pairs:
        report = read_json(os.path.join(sweep_dir, "crossplay", f"{pair['name']}.json"), "cross-play report")
        across = report["across_pairs"]
        table.append({**pair, "runs": [list(r) for r in pair["runs"]], "report": f"crossplay/{pair['name']}.json",
                      "n_pairs": report["n_pairs"], "episodes": report["episodes"],
                      "focal_return": across["crossplay"]["focal_return"],
                      "resident_return": across["resident"]["focal_return"],
                      "return_vs_resident": across["crossplay"]["return_vs_resident"],
                      "placebo_return": across["placebo"]["focal_return"],
                      "focal_kin_stranger_ratio": across["crossplay"]["focal_kin_stranger_ratio"],
                      "across_pairs": across})
    return {"name": spec.name, "spec_file": os.path.abspath(spec_path), "spec": spec.model_dump(),
            "env_steps": env_steps, "seeds": seeds, "backend": args.backend, "sweep_dir": sweep_dir,
            "sweep": {"report": "report.html", "results": "results.json", "evaluation": results["evaluation"],
                      "interval": results["interval"], "summary": results["summary"]},
            "crossplay": table,
            "interval": "cross-play: 95% t-interval over pairs of seeds (n = pairs); each pair's value is its mean "
                        "over episodes (metta.evals.crossplay)"}


def reference_hearts(spec: Spec, sweep_dir: str) -> float | None:
    """The scripted peaceful population's hearts per agent per episode on the spec's preset
    (``evaluation.reference_episodes`` episodes, metta.experiments.dilemma_check), kept in
    ``TRAIN_DIR/NAME/reference.json`` and reused while the spec asks for the same."""
    k = spec.evaluation.reference_episodes
    if not k:
        return None
    path = os.path.join(sweep_dir, "reference.json")
    if os.path.isfile(path):
        saved = read_json(path, "scripted reference")
        if saved.get("preset") == spec.preset and saved.get("episodes") == k:
            return saved["hearts"]
    from metta.experiments.dilemma_check import scripted_hearts

    hearts = scripted_hearts(spec.preset, k)
    write_json(path, {"preset": spec.preset, "episodes": k, "population": "peaceful", "hearts": hearts})
    return hearts


def offset_note(pair: dict) -> str:
    k = pair["background_seed_offset"]
    return f" (seed +{k})" if k else ""


def page(flagship: dict) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td><a href=\"{e(p['report'])}\">{e(p['name'])}</a></td>"
        f"<td>{e(', '.join(f'{k}={v}' for k, v in p['focal'].items()))}</td>"
        f"<td>{e(', '.join(f'{k}={v}' for k, v in p['background'].items()))}"
        f"{offset_note(p)}</td>"
        + "".join(f'<td data-pair="{e(p["name"])}" data-key="{k}">{e(cell(p[k]))}</td>'
                  for k in ("focal_return", "resident_return", "return_vs_resident", "placebo_return"))
        + f"<td>{p['n_pairs']}</td></tr>" for p in flagship["crossplay"])
    grid = "; ".join(f"{k} ∈ {{{', '.join(map(grid_value, v))}}}" for k, v in flagship["spec"]["grid"].items())
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Metta experiment: {e(flagship['name'])}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px}}</style></head><body>
<h1>Experiment {e(flagship['name'])}: {e(flagship['spec']['preset'])}</h1>
<p>Grid {e(grid)}; {flagship['seeds']} seed(s) per point; {flagship['env_steps']:,} agent-steps per run
({e(flagship['backend'])}). Spec: <code>{e(flagship['spec_file'])}</code>.</p>
<p>The sweep: <a href="{e(flagship['sweep']['report'])}">report.html</a> (per-seed table, rate ratios per chance with
95% intervals across seeds, the power line).</p>
<h2>Cross-play</h2>
<p>Focal per-capita raw return (own reward before sharing) among the background, against the resident population
(every agent from the focal run), and with the focal group's kinship channel shuffled (placebo). Each cell: mean
[95% t-interval over pairs of seeds]; n = pairs; {e(str(flagship['crossplay'][0]['episodes']) if flagship['crossplay']
else '0')} episodes per pair and condition.</p>
<table><tr><th>pair</th><th>focal</th><th>background</th><th>focal return</th><th>resident return</th>
<th>focal − resident</th><th>placebo return</th><th>n</th></tr>{rows}</table>
{arms_section(flagship)}
</body></html>
"""


def arms_section(flagship: dict) -> str:
    if "arms" not in flagship:
        return ""
    from metta.experiments.arms_page import section

    return section(flagship["arms"], flagship["crossplay"])


def experiment(args) -> int:
    from metta.errors import UsageError

    spec = load_spec(args.spec)
    env_steps = args.env_steps or spec.env_steps
    seeds = args.seeds or spec.seeds
    train_dir = os.path.abspath(args.train_dir)
    sweep_dir = os.path.join(train_dir, spec.name)
    argv = sweep_argv(spec, env_steps, seeds, args.backend, train_dir, args.sweep_flags)
    pairs = pair_runs(spec, seeds)
    if args.dry_run:
        from metta.experiments.sweep import parse_cli as sweep_cli

        sweep_cli(argv[:argv.index("--")] if "--" in argv else argv)  # a flag the sweep refuses fails here too
        print(f"{SWEEP} {shlex.join(argv)}")
        for pair in pairs:
            print(f"{CROSSPLAY} {shlex.join(crossplay_argv(spec, pair, sweep_dir))}")
        print(f"then writes {os.path.join(sweep_dir, 'flagship.json')} and flagship.html")
        return 0
    from metta.experiments import sweep

    code = sweep.main(argv)
    if code:
        if code == 2:
            raise UsageError(f"the sweep refused its command line ({SWEEP} {shlex.join(argv)}); see above")
        return code
    if not os.path.isfile(os.path.join(sweep_dir, "results.json")):
        print(f"the sweep has no results yet ({sweep_dir}); rerun this command once its runs are done")
        return 0
    os.makedirs(os.path.join(sweep_dir, "crossplay"), exist_ok=True)
    for pair in pairs:
        code = run_crossplay(spec, pair, sweep_dir)
        if code:
            return code
    flagship = summary(spec, args.spec, args, env_steps, seeds, sweep_dir, pairs)
    if spec.evaluation.paired:  # both arms in every run: the contrast inside runs (metta.experiments.arms_report)
        from metta.experiments.arms_report import arms_report

        desc = read_json(os.path.join(sweep_dir, "sweep.json"), "sweep description")
        flagship["arms"] = arms_report(desc, sweep_dir, reference_hearts(spec, sweep_dir))
    write_json(os.path.join(sweep_dir, "flagship.json"), flagship)
    write_text(os.path.join(sweep_dir, "flagship.html"), page(flagship))
    print(f"wrote {os.path.join(sweep_dir, 'flagship.json')} and flagship.html")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_cli(sys.argv[1:] if argv is None else list(argv))
    return run_command(lambda stops: experiment(args))


if __name__ == "__main__":
    sys.exit(main())
