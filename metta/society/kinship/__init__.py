"""Kinship structures and the reward-sharing rule.

Each episode draws an N x N kinship matrix K (symmetric, K[i, i] = 1, entries in
[0, 1]) from the env's seeded generator, and derives the sharing matrix T that is
applied to the agents' own rewards r of every step:

    r' = T @ r

Each structure is a small class in a module of its own here, holding only its own parameters and the
shared ones (``bond_share``, ``kinship_noise``, ``kin_threshold``, in ``base``): ``Selfish``,
``Teams``, ``RandomKinship``, ``Clans``: typed configs (pydantic, metta.config.ConfigModel) told apart
by their ``structure`` field (the env's config picks one by that name; changing ``kinship.structure`` keeps only
the shared parameters, metta.config). A new structure is one new
file in this package, a ``Kinship`` subclass with a ``structure: Literal["name"]`` field: importing the
package imports every module in it, subclassing registers the structure, and the env's config
(metta.env.config), its training flags and the tests take it from there (a preset, if it deserves one).

Structures and how T follows from K:

- ``selfish``: K = I, T = I.
- ``teams`` (``team_size`` or ``num_teams``, which replaces a preset's ``team_size``;
  ``team_reward`` = alpha): agents are shuffled into teams; K[i, j] = 1 within a team,
  0 across. The seed's rule,
      r'_i = (1 - alpha) r_i + (alpha / |T(i)|) sum_{j in T(i)} r_j,
  is T = (1 - alpha) I + alpha * M, with M[i, j] = 1/|T(i)| for j in i's team.
- ``mixed_teams`` (``team_size`` or ``num_teams``; ``arms``): teams as above, each drawing its alpha per episode
  from ``arms``, balanced over the teams; T[i] = (1 - alpha_i) e_i + alpha_i M[i] (metta.society.kinship.mixed_teams).
  Agents observe their team's alpha.
- ``random`` (Beta(``a``, ``b``)): K[i, j] = K[j, i] ~ Beta(a, b) for i != j, as in
  RUSP (Baker 2020). T is K row-normalised: T[i, j] = K[i, j] / sum_k K[i, k].
- ``clans`` (``family_size``, ``families_per_clan``, ``clans_per_hive``, and weights
  ``w_family`` >= ``w_clan`` >= ``w_hive`` >= ``w_stranger``): agents are shuffled into
  families, families into clans, clans into hives; K[i, j] is the weight of the
  deepest group i and j share (1 for i = j). T is K row-normalised.

Every T has rows summing to 1: what an agent receives is a weighted average of its
kin's own rewards. Total reward is conserved only where columns also sum to 1
(``selfish``, and ``teams`` of equal sizes, where T is symmetric); under row-normalised
sharing an agent with many close kin passes on more than it receives.
Bonds (formed in the game by mutual offers) add to this for the rest of the
episode: with B the bond graph and beta = ``bond_share``, each bonded agent pools
beta of what it receives with its partners,

    S = (1 - beta) I + beta M,  M[i, j] = 1 / (|B(i)| + 1) for j in {i} + B(i),
    T_episode = S @ T   (agents without bonds keep S[i, i] = 1),

so ``env.sharing`` changes when a bond forms.

"Kin" in the social metrics means K[i, j] >= ``kin_threshold`` (default 0.5).
"""

import importlib
import pkgutil

from metta.society.kinship.base import SHARED, STRUCTURES, Draw, Kinship, bond_sharing
# the built-in structures, in the order they are listed (errors, flags); then any other module here
from metta.society.kinship.selfish import Selfish
from metta.society.kinship.teams import Teams
from metta.society.kinship.mixed_teams import MixedTeams
from metta.society.kinship.random_kinship import RandomKinship
from metta.society.kinship.clans import Clans

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["SHARED", "STRUCTURES", "Draw", "Kinship", "Selfish", "Teams", "MixedTeams", "RandomKinship", "Clans",
           "bond_sharing"]
