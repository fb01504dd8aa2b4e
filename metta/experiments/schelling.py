"""The Schelling diagram of a dilemma game (Hughes et al. 2018), from the scripted populations of
metta.experiments.dilemma_check (``--schelling FILE.png``).

Populations of k peaceful agents (cooperators) and N − k kin-blind thieves (defectors), k = 0..N, play the same
maps per seed; which agents are peaceful is the first k of a permutation drawn per seed and episode, so the sets
are nested (``schelling_thieves``). Per k: the mean return per agent of the cooperators and of the defectors,
against the number of OTHER cooperators (a cooperator's x is k − 1, a defector's k), with 95% t intervals across
seeds (``schelling``), raw and shared at ``SCHELLING_ALPHA``; and Hughes et al.'s conditions, paired by seed. Drawn
by ``plot_schelling``; the check's report writes it as text.
"""
from __future__ import annotations

import numpy as np

from metta.evals.stats import mean_interval

SCHELLING_ALPHA = 1.0  # the shared returns of the Schelling diagram's second panel


def schelling_thieves(k: int, n: int, seed: int, episode: int) -> np.ndarray:
    """The Schelling population with ``k`` peaceful agents: the first k of a permutation drawn for (seed, episode),
    the same for every k (nested); the other n − k steal, kin-blind."""
    order = np.random.default_rng([seed, episode]).permutation(n)
    thieves = np.ones(n, dtype=bool)
    thieves[order[:k]] = False
    return thieves


def schelling(runs: dict, alpha: float | None = SCHELLING_ALPHA) -> dict:
    """``runs[k][seed]``: the episodes of the population with k cooperators (peaceful; the others are kin-blind
    thieves, ``thieves`` per episode) -> per panel (``raw``, and ``shared`` at ``alpha`` when the episodes carry
    it), per group (``cooperators``, ``defectors``), per x (the number of OTHER cooperators: k − 1 for a
    cooperator, k for a defector): the per-seed mean return per agent of the group and its 95% t interval; and
    Hughes et al.'s conditions on R_c(x), R_d(x), paired by seed."""
    ks = sorted(runs)
    n = max(ks)
    seeds = sorted(runs[ks[0]])
    panels = {"raw": lambda ep: np.asarray(ep["raw"], dtype=np.float64)}
    if alpha is not None:
        panels[f"shared_alpha_{alpha:g}"] = lambda ep: np.asarray(ep["shared"][alpha], dtype=np.float64)
    out = dict(n_agents=n, seeds=seeds, alpha=alpha, panels={})
    for panel, returns in panels.items():
        groups = {}
        for group, cooperate, shift in (("cooperators", True, 1), ("defectors", False, 0)):
            curve = {}
            for k in ks:
                if (k == 0 and cooperate) or (k == n and not cooperate):
                    continue
                per_seed = []
                for s in seeds:
                    values = []
                    for ep in runs[k][s]:
                        members = ~np.asarray(ep["thieves"], bool) if cooperate else np.asarray(ep["thieves"], bool)
                        assert members.sum() == (k if cooperate else n - k), (k, group)
                        values.append(float(returns(ep)[members].mean()))
                    per_seed.append(float(np.mean(values)))
                curve[k - shift] = dict(x=k - shift, k=k, **mean_interval(per_seed), per_seed=per_seed)
            groups[group] = curve
        c, d = ({x: np.array(v["per_seed"]) for x, v in groups[g].items()} for g in ("cooperators", "defectors"))
        conditions = {"mutual cooperation over mutual defection: Rc(N-1) - Rd(0)": c[n - 1] - d[0],
                      "mutual cooperation over being exploited: Rc(N-1) - Rc(0)": c[n - 1] - c[0],
                      "fear, defecting among defectors: Rd(0) - Rc(0)": d[0] - c[0],
                      "greed, defecting among cooperators: Rd(N-1) - Rc(N-1)": d[n - 1] - c[n - 1]}
        conditions.update({f"defecting pays with {x} other cooperators: Rd({x}) - Rc({x})": d[x] - c[x]
                           for x in range(1, n - 1)})  # x = 0 and N - 1: fear and greed
        out["panels"][panel] = dict(cooperators=list(groups["cooperators"].values()),
                                    defectors=list(groups["defectors"].values()),
                                    conditions={k: dict(mean_interval(v), per_seed=v.tolist())
                                                for k, v in conditions.items()})
    return out


def plot_schelling(diagram: dict, path: str, title: str) -> None:
    """Draw ``diagram`` (``schelling``'s) into ``path``: a panel per kind of return, cooperators' and defectors'
    mean return per agent against the number of other cooperators, with their 95% t intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = diagram["panels"]
    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 4.8), squeeze=False, sharey=True)
    # colour, marker, label, and a small shift along x so that the two groups' intervals do not hide each other
    style = {"cooperators": ("tab:blue", "o", "cooperator (peaceful)", -0.08),
             "defectors": ("tab:red", "s", "defector (kin-blind thief)", 0.08)}
    for ax, (panel, groups) in zip(axes[0], panels.items()):
        for group in ("cooperators", "defectors"):
            colour, marker, label, shift = style[group]
            pts = groups[group]
            x = np.array([p["x"] for p in pts], dtype=float) + shift
            mean = np.array([p["mean"] for p in pts])
            lo = np.array([p["mean"] if p["lo"] is None else p["lo"] for p in pts])
            hi = np.array([p["mean"] if p["hi"] is None else p["hi"] for p in pts])
            ax.fill_between(x, lo, hi, color=colour, alpha=0.18, linewidth=0)
            ax.errorbar(x, mean, yerr=[mean - lo, hi - mean], color=colour, marker=marker, markersize=5, capsize=3,
                        linewidth=1.6, label=label)
        kind = "raw return" if panel == "raw" else f"shared return, every team at α = {diagram['alpha']:g}"
        ax.set_title(kind)
        ax.set_xlabel(f"number of other cooperators (of {diagram['n_agents'] - 1} other agents)")
        ax.set_ylabel("mean return per agent per episode")
        ax.set_xticks(range(diagram["n_agents"]))
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=9)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
