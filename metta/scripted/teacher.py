"""Kickstarting: training pulled towards a scripted teacher's actions while it learns from reward.

With ``--teacher NAME`` (a scripted policy, metta.scripted.agents.CONDUCTS: ``oracle``, ``peaceful``) the loss of
every minibatch is APPO's plus

    λ_t × (1 / V) × Σ over the minibatch's valid steps that have a teacher of  −log π(a_teacher | s)

the cross-entropy between the teacher's action and the student's policy (its action logits), V the minibatch's
valid steps. λ decays linearly with the run's agent-steps t (the learner's count, which a resumed run loads from
its checkpoint, so a resumed run continues the schedule)::

    λ_t = --teacher_coef × max(0, 1 − t / (--teacher_until × --train_for_env_steps))

(``Schedule``). After the decay point training is plain APPO. A run with a teacher needs its budget in agent-steps
(``--train_for_env_steps``; ``--train_for_seconds`` may still bound its wall time).

Where each part runs:

- **The teacher plays where the env runs** (``EnvTeacher``, built by metta.sf_integration.env): after every step and
  reset it reads the true game state of each env of the slot and chooses every agent's action, which travels beside
  the observation as two extra keys, ``teacher_action`` and ``has_teacher`` (1 where the teacher chose, 0 where it
  was not asked: those steps add no loss). The teacher plays the run's own training tasks, nothing else.
- **It is asked only while λ > 0.** An env does not know the run's agent-steps; it counts its own and stops asking
  once its own count times the run's number of Sample Factory envs (``--num_workers`` × ``--num_envs_per_worker``),
  plus the agent-steps the run resumed from, passes the decay point. Envs that step at unequal speeds stop a little
  apart, and the learner trains on steps collected up to a few batches before (policy lag): the last stretch of the
  decay, where λ is near 0, may see fewer taught steps. After it, the teacher costs nothing.
- **The loss is computed in the learner**, on the same minibatch as APPO's (metta.sf_integration.patches wraps
  Sample Factory's ``Learner._calculate_losses``; ``Kickstart`` is the term).
- **The student never sees the teacher's keys.** The model is built on the observation space without them
  (``student_space``: its encoders and normalisers are the same with and without a teacher, so are its parameters,
  and a kickstarted checkpoint loads, evaluates, resumes and publishes with no teacher configured), and the encoders
  read only their own keys.

TensorBoard (each time the learner records its summaries): ``teacher/lambda``, ``teacher/loss`` (λ × the term
above: what the teacher adds to the loss), ``teacher/cross_entropy`` (mean −log π(a_teacher) over the taught steps),
``teacher/agreement`` (the share of taught steps where the student's most likely action is the teacher's) and
``teacher/taught`` (the share of valid steps that had a teacher). ``train/policy_loss`` stays APPO's own;
``train/loss`` is the total.
"""
from __future__ import annotations

import argparse
import functools
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces

from metta.errors import ConfigError, UsageError
from metta.scripted.agents import CONDUCTS, ScriptedAgents, conduct_named
from metta.sf_integration.config import cfg_value

TEACHER_ACTION_KEY = "teacher_action"
HAS_TEACHER_KEY = "has_teacher"
TEACHER_KEYS = (TEACHER_ACTION_KEY, HAS_TEACHER_KEY)
NO_TEACHER = "none"
DEFAULT_COEF = 1.0
DEFAULT_UNTIL = 0.5
WEIGHTINGS = ("uniform", "balanced")
SF_DEFAULT_BUDGET = int(1e10)  # Sample Factory's --train_for_env_steps when none is given: no budget
PREFIX = "teacher/"
TEACHER_START = "teacher_start_steps"  # the agent-steps a run resumed from, set by metta.sf_integration.train


def add_teacher_args(parser: argparse.ArgumentParser) -> None:
    """Kickstarting's flags (metta.scripted.teacher)."""
    g = parser.add_argument_group("metta teacher", "kickstarting from a scripted teacher (docs/teachers.md, "
                                                   "metta.scripted.teacher)")
    g.add_argument("--teacher", default=None, metavar="NAME",
                   help=f"a scripted policy ({', '.join(CONDUCTS)}) whose actions the student is pulled towards: the "
                        f"loss gains lambda x the cross-entropy between the teacher's action and the policy; needs "
                        f"--train_for_env_steps (default: no teacher; a resumed run keeps its own, {NO_TEACHER} drops "
                        f"it)")
    g.add_argument("--teacher_coef", type=float, default=DEFAULT_COEF, metavar="LAMBDA0",
                   help=f"lambda at the start (default {DEFAULT_COEF}: the cross-entropy weighs about as much as "
                        f"APPO's policy term, whose advantages are normalised to unit spread, so the teacher leads "
                        f"at first and reward takes over as lambda falls)")
    g.add_argument("--teacher_until", type=float, default=DEFAULT_UNTIL, metavar="SHARE",
                   help=f"the share of --train_for_env_steps by which lambda decays linearly to 0 (default "
                        f"{DEFAULT_UNTIL}: the second half of the budget is plain RL, so the student can outgrow the "
                        f"teacher and the policy that ships is judged by reward alone; the teacher is no longer "
                        f"asked, and costs nothing, after it)")
    g.add_argument("--teacher_weighting", choices=WEIGHTINGS, default=WEIGHTINGS[0],
                   help="how the minibatch's taught steps weigh in the cross-entropy: uniform (default: each step "
                        "alike) or balanced (each action the teacher chose weighs alike in total, its steps by the "
                        "inverse of its count, the mean weight 1: a rare decisive action such as use counts as "
                        "much as the moves)")


@dataclass(frozen=True)
class Schedule:
    """λ at ``steps`` agent-steps: ``coef`` decaying linearly to 0 at ``until_steps``, 0 after."""

    coef: float
    until_steps: float

    def __call__(self, steps: float) -> float:
        if self.until_steps <= 0:
            return 0.0
        return self.coef * max(0.0, 1.0 - float(steps) / self.until_steps)


def teacher_name(cfg) -> str | None:
    """The scripted policy ``cfg`` (a parsed config or a loaded config.json) trains with; None: no teacher."""
    name = cfg_value(cfg, "teacher")
    return None if not name or name == NO_TEACHER else str(name)


def schedule(cfg) -> Schedule | None:
    """The run's schedule of λ; None without a teacher."""
    if teacher_name(cfg) is None:
        return None
    coef = cfg_value(cfg, "teacher_coef")
    until = cfg_value(cfg, "teacher_until")
    coef = DEFAULT_COEF if coef is None else float(coef)
    until = DEFAULT_UNTIL if until is None else float(until)
    return Schedule(coef, until * float(cfg_value(cfg, "train_for_env_steps") or 0))


def check_teacher(cfg) -> None:
    """A run's teacher flags, or UsageError naming the flag (the teacher's name: metta.scripted.agents.CONDUCTS)."""
    name = teacher_name(cfg)
    if name is None:
        return
    try:
        conduct_named(name)
    except ConfigError as err:
        raise UsageError(f"{err}, or {NO_TEACHER}") from None
    coef, until = cfg_value(cfg, "teacher_coef"), cfg_value(cfg, "teacher_until")
    if coef is not None and not coef >= 0:
        raise UsageError(f"--teacher_coef must be >= 0, got {coef}")
    if until is not None and not 0 < until <= 1:
        raise UsageError(f"--teacher_until is a share of --train_for_env_steps, in (0, 1]; got {until}")
    budget = cfg_value(cfg, "train_for_env_steps")
    if not budget or budget >= SF_DEFAULT_BUDGET:
        raise UsageError(f"--teacher={name}: its λ decays to 0 by --teacher_until of the run's budget in agent-steps; "
                         f"give one with --train_for_env_steps (--train_for_seconds may still bound the wall time)")


def teacher_spaces(num_actions: int) -> dict[str, spaces.Box]:
    """The observation keys the teacher adds: its action (an index into the action space) and 1 where it chose."""
    return {TEACHER_ACTION_KEY: spaces.Box(0, num_actions - 1, (1,), dtype=np.float32),
            HAS_TEACHER_KEY: spaces.Box(0, 1, (1,), dtype=np.float32)}


def student_space(obs_space: spaces.Dict) -> spaces.Dict:
    """``obs_space`` without the teacher's keys: what the student's model is built on."""
    return spaces.Dict({k: v for k, v in obs_space.spaces.items() if k not in TEACHER_KEYS})


class EnvTeacher:
    """The scripted teacher of one Sample Factory env's Metta envs (``envs``: those of its ``EnvBatch``, in order):
    every agent's action after each step and reset, while the schedule's λ is above 0 (module docstring).

    ``share``: Sample Factory envs in the run; ``start_steps``: the run's agent-steps when this process started
    (a resumed run's)."""

    def __init__(self, envs: list, name: str, plan: Schedule, share: int = 1, start_steps: int = 0,
                 seed: int | None = 0):
        self.envs, self.conduct, self.plan = envs, conduct_named(name), plan
        self.share, self.start_steps, self.seed = max(1, int(share)), int(start_steps), seed
        self.per_env = envs[0].num_agents_total
        n = self.per_env * len(envs)
        self.action = np.zeros((n, 1), dtype=np.float32)
        self.has = np.zeros((n, 1), dtype=np.float32)
        self.steps = 0        # this env's agent-steps
        self._agents: dict[int, ScriptedAgents] = {}  # one per game env (a curriculum has one per variant)

    @classmethod
    def of(cls, cfg, envs: list) -> "EnvTeacher | None":
        """The teacher of a slot's ``envs`` when ``cfg`` trains with one (``--teacher``), else None. Its share of the
        run's agent-steps: one of ``--num_workers`` x ``--num_envs_per_worker`` envs."""
        plan = None if cfg is None else schedule(cfg)
        if plan is None:
            return None
        share = int(cfg_value(cfg, "num_workers") or 1) * int(cfg_value(cfg, "num_envs_per_worker") or 1)
        return cls(envs, str(teacher_name(cfg)), plan, share=share,
                   start_steps=int(cfg_value(cfg, TEACHER_START) or 0), seed=cfg_value(cfg, "seed"))

    def run_steps(self) -> int:
        """This env's estimate of the run's agent-steps."""
        return self.start_steps + self.steps * self.share

    def asking(self) -> bool:
        return self.plan(self.run_steps()) > 0

    def count(self) -> None:
        """One step of every agent."""
        self.steps += len(self.action)

    def _scripted(self, env):
        game_env = getattr(env, "current", env)  # a CurriculumEnv plays one env per game variant
        agents = self._agents.get(id(game_env))
        if agents is None or agents.env is not game_env:
            agents = self._agents[id(game_env)] = ScriptedAgents(game_env, self.conduct, seed=self.seed)
        return agents

    def reset(self, i: int) -> None:
        """Env ``i`` (of ``envs``) began a new episode: its scripted agents start it afresh (their tie-breaks
        seeded anew, no walk or gift carried over from the last episode)."""
        self._scripted(self.envs[i]).reset(self.seed)

    def observe(self) -> tuple[np.ndarray, np.ndarray]:
        """The teacher's keys for the current state: ``(action, has)``, each ``(agents, 1)``."""
        if not self.asking():
            self.has[:] = 0.0
            self.action[:] = 0.0
            return self.action, self.has
        for i, env in enumerate(self.envs):
            rows = slice(i * self.per_env, (i + 1) * self.per_env)
            self.action[rows, 0] = self._scripted(env).act()
        self.has[:] = 1.0
        return self.action, self.has


def teacher_term(logits: torch.Tensor, obs: dict, valids: torch.Tensor, balanced: bool = False,
                 action_types: list[str] | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """The kickstarting term before λ: the sum of −log π(a_teacher) over the valid steps with a teacher, divided by
    the valid steps; and its statistics (module docstring; ``cross_entropy`` and ``agreement`` only when some step
    was taught). ``logits`` ``(N, actions)``; ``obs`` holds the teacher's keys ``(N, 1)``; ``valids`` ``(N,)``.

    ``balanced``: a taught step whose teacher action a was chosen n_a times among the n taught steps, of k distinct
    actions, weighs n / (k n_a) (every chosen action weighs n / k in total; the mean weight is 1).
    ``action_types``: the type of each action (``use``, ``move``...): the statistics add ``agreement/<type>``, the
    agreement on the taught steps whose teacher action is of that type."""
    action = obs[TEACHER_ACTION_KEY].reshape(-1).round().long().clamp(0, logits.shape[-1] - 1)
    taught = (obs[HAS_TEACHER_KEY].reshape(-1) > 0.5) & valids.reshape(-1).bool()
    valid = int(valids.sum())
    n = int(taught.sum())
    if n == 0:
        return logits.sum() * 0.0, {"taught": 0.0}
    ce = F.cross_entropy(logits, action, reduction="none")
    weight = taught.to(ce.dtype)
    if balanced:
        counts = torch.bincount(action[taught], minlength=logits.shape[-1]).to(ce.dtype)
        weight = weight * n / (int((counts > 0).sum()) * counts[action].clamp(min=1))
    term = (weight * ce).sum() / max(valid, 1)
    with torch.no_grad():
        agrees = (logits.argmax(-1) == action) & taught
        stats = {"taught": n / max(valid, 1), "cross_entropy": float(ce[taught].mean()),
                 "agreement": agrees.sum().item() / n}
        if action_types:
            names, index = type_index(tuple(action_types))
            type_of = index[action]
            for t, name in enumerate(names):
                of_type = taught & (type_of == t)
                if of_type.any():
                    stats[f"agreement/{name}"] = (agrees & of_type).sum().item() / of_type.sum().item()
    return term, stats


@functools.lru_cache(maxsize=8)
def type_index(action_types: tuple[str, ...]) -> tuple[list[str], torch.Tensor]:
    """The action types in order, and each action's index among them: computed once per run, not per minibatch."""
    names = sorted(set(action_types))
    return names, torch.tensor([names.index(t) for t in action_types])


class Kickstart:
    """The learner's side: λ_t × ``teacher_term`` at the learner's agent-steps, and its TensorBoard scalars
    (``teacher/...``)."""

    def __init__(self, plan: Schedule, balanced: bool = False, action_types: list[str] | None = None):
        self.plan, self.balanced, self.action_types = plan, balanced, action_types

    @classmethod
    def of(cls, cfg) -> "Kickstart | None":
        """The run's kickstarting term (``--teacher_weighting``; the action types metta.sf_integration.train
        records in ``action_types``), None without a teacher."""
        plan = schedule(cfg)
        if plan is None:
            return None
        return cls(plan, balanced=cfg_value(cfg, "teacher_weighting") == "balanced",
                   action_types=cfg_value(cfg, "action_types"))

    def __call__(self, env_steps: int, obs: dict, logits: torch.Tensor,
                 valids: torch.Tensor) -> tuple[torch.Tensor | float, dict[str, float]]:
        lam = self.plan(env_steps)
        if lam <= 0:
            return 0.0, {f"{PREFIX}lambda": 0.0, f"{PREFIX}loss": 0.0}
        term, stats = teacher_term(logits, obs, valids, self.balanced, self.action_types)
        loss = lam * term
        return loss, {f"{PREFIX}lambda": lam, f"{PREFIX}loss": float(loss.detach()),
                      **{PREFIX + k: v for k, v in stats.items()}}
