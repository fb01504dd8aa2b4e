"""The policy's encoder, made for Metta's observation, registered with Sample Factory.

Architecture (Sample Factory supplies the recurrent core, the heads and the input
normalisation; sizes are Sample Factory's flags, defaults in ``metta.sf_integration.train``):

    obs   (C, 11, 11) egocentric window, normalised per element by Sample Factory's
          running mean/std (``--normalize_input``, on by default), so binary object
          channels, energies up to 255 and kinship share one scale
      -> conv 1x1, C -> 16, ELU         what is in each cell (object, orientation,
                                          variables, kinship) as one embedding per cell
      -> conv 3x3 stride 2, 16 -> 32, ELU   neighbourhoods: "an altar in front", "a
                                          stranger two cells left"; 11x11 -> 5x5
      -> conv 3x3, 32 -> 32, ELU        5x5 -> 3x3
      -> flatten (288) -> MLP ``--encoder_conv_mlp_layers``   flattening keeps where
                                          things are: what is in front matters for use,
                                          attack and gift
    self  (C + actions + 1) own cell, last action one-hot, last reward
          (metta.sf_integration.env.SelfFeatures)
      -> MLP ``--encoder_mlp_layers``
    concat -> Sample Factory's core: a GRU of ``--rnn_size`` (memory of where the
          generators and altars were, who attacked) -> linear policy logits over the
          flat action space, and a linear value head (shared weights).

The untrained policy has a prior (``--action_prior``, default 0.05): it picks among the
action types wait, move, rotate and use equally (then equally among a type's inputs, so
rotating is not 4 times as likely as using), and gives all other actions (attacks,
shield, gifts, bonds, marks) that much probability in total instead of 14/22. Every one
of those costs energy, and a uniformly random agent spends all of its on them (a raised
shield's upkeep eats the regeneration, so it can never pay to lower it): it never earns
a heart on ``metta-teams``, leaving training no reward to learn from. The prior is only
the output layer's initial bias; learning moves it like any other weight.

The convolutions stay narrow because on 2 CPU cores the same cores run the simulator,
inference and learning: with the CPU defaults the whole model is about 0.3 M
multiply-adds per agent-step.
"""
from __future__ import annotations

import math
import multiprocessing

import torch
from torch import nn

from sample_factory.algo.utils.torch_utils import calc_num_elements
from sample_factory.model.actor_critic import default_make_actor_critic_func
from sample_factory.model.encoder import Encoder
from sample_factory.model.model_utils import create_mlp, nonlinearity

from metta.sf_integration.config import cfg_value
from metta.sf_integration.env import SELF_KEY

CELL_EMBEDDING = 16
CONV_CHANNELS = 32


class MettaEncoder(Encoder):
    def __init__(self, cfg, obs_space):
        super().__init__(cfg)
        channels = obs_space["obs"].shape[0]
        self.grid = nn.Sequential(
            nn.Conv2d(channels, CELL_EMBEDDING, 1), nonlinearity(cfg),
            nn.Conv2d(CELL_EMBEDDING, CONV_CHANNELS, 3, stride=2), nonlinearity(cfg),
            nn.Conv2d(CONV_CHANNELS, CONV_CHANNELS, 3), nonlinearity(cfg),
            nn.Flatten(),
        )
        flat = calc_num_elements(self.grid, obs_space["obs"].shape)
        self.grid_mlp = create_mlp(list(cfg.encoder_conv_mlp_layers), flat, nonlinearity(cfg))
        self.self_mlp = create_mlp(list(cfg.encoder_mlp_layers), obs_space[SELF_KEY].shape[0], nonlinearity(cfg))
        self.out_size = (calc_num_elements(self.grid_mlp, (flat,))
                         + calc_num_elements(self.self_mlp, obs_space[SELF_KEY].shape))

    def forward(self, obs_dict):
        grid = self.grid_mlp(self.grid(obs_dict["obs"].contiguous(memory_format=torch.channels_last)))
        return torch.cat([grid, self.self_mlp(obs_dict[SELF_KEY])], dim=1)

    def get_out_size(self) -> int:
        return self.out_size


def make_metta_encoder(cfg, obs_space) -> Encoder:
    return MettaEncoder(cfg, obs_space)


BASIC_ACTIONS = ("noop", "move", "rotate", "use")


def prior_logits(action_types: list[str], other_share: float) -> list[float] | None:
    """Initial logits: basic action types equally likely, the other actions ``other_share`` in total.

    None (no prior: every action equally likely) when ``other_share`` is 0 or the game has
    no basic or no other actions."""
    counts = {t: action_types.count(t) for t in set(action_types) if t in BASIC_ACTIONS}
    n_other = len(action_types) - sum(counts.values())
    if not other_share or not counts or not n_other:
        return None
    basic_p = {t: (1.0 - other_share) / len(counts) / c for t, c in counts.items()}
    other_p = other_share / n_other
    return [math.log(basic_p[t] if t in basic_p else other_p) for t in action_types]


LEARNER_PROCESS = "learner_proc"  # how Sample Factory 2.1.1 names its learner processes


def make_metta_actor_critic(cfg, obs_space, action_space):
    learner_threads = cfg_value(cfg, "learner_threads")
    if learner_threads and multiprocessing.current_process().name.startswith(LEARNER_PROCESS):
        # Sample Factory runs every process on one torch thread; on 2 CPU cores the learner's backprop is the
        # bottleneck while the other processes leave about a quarter of the cores idle (docs/performance.md)
        torch.set_num_threads(int(learner_threads))
    model = default_make_actor_critic_func(cfg, obs_space, action_space)
    # PyTorch's CPU convolutions run faster on channels-last tensors: the learner's forward and backward through
    # the encoder took 58-77 ms a 1536-sample batch against 89-110 ms (same weights and shapes). Set after Sample
    # Factory's orthogonal initialisation, which needs the weights contiguous.
    for module in model.modules():
        if isinstance(module, MettaEncoder):
            module.grid.to(memory_format=torch.channels_last)
    logits = cfg_value(cfg, "action_prior_logits")
    if logits:
        with torch.no_grad():
            model.action_parameterization.distribution_linear.bias.copy_(torch.tensor(logits))
    return model
