"""The policy's encoders, made for Metta's observation, registered with Sample Factory.

A run's architecture is a named option (``--architecture``), saved in its ``config.json`` and on the Hub's model
card, so every checkpoint loads into the architecture it was trained with (``ARCHITECTURES``; a config.json
written before the option existed is ``conv``, ``LEGACY_ARCHITECTURE``). Sample Factory supplies the recurrent
core (``--use_rnn``, ``--rnn_size``), the heads and the optimiser; sizes are its flags, defaults in
``metta.sf_integration.train``.

``flat`` (the default)::

    obs   (11, 11, C) egocentric window, channels last (the env's own buffer, no copy), each channel
          normalised by a running mean and standard deviation (``ChannelNormalizer``)
      -> linear C -> ``--cell_embedding`` (default 8), ELU     what is in each cell (object, orientation,
                                          variables, kinship), one embedding per cell
      -> flatten (121 x 8) -> MLP ``--encoder_conv_mlp_layers``   flattening keeps where things are:
                                          what is in front matters for use, attack and gift

``conv`` (the first architecture)::

    obs   (C, 11, 11), normalised per element by Sample Factory's running mean/std (``--normalize_input``)
      -> conv 1x1, C -> 16, ELU
      -> conv 3x3 stride 2, 16 -> 32, ELU   11x11 -> 5x5
      -> conv 3x3, 32 -> 32, ELU            5x5 -> 3x3
      -> flatten (288) -> MLP ``--encoder_conv_mlp_layers``

Both then read ``self`` (C + actions + 1: own cell, last action one-hot, last reward;
metta.sf_integration.env.SelfFeatures) through an MLP ``--encoder_mlp_layers`` and concatenate; Sample Factory's
core (a GRU of ``--rnn_size``, or none with ``--use_rnn=False``) and linear policy and value heads follow.

The model reads only ``obs`` and ``self``: a run with a teacher (metta.scripted.teacher) has two more keys in
its observations, and the model is built on the observation space without them (``make_metta_actor_critic``), so
its parameters and normalisers are the same with and without a teacher and its checkpoints load without one.

Why ``flat`` on 2 CPU cores: the learner's backward pass was the bottleneck, and the 3x3 convolutions cost more
per sample on the CPU than one matrix product over the flattened cells; Sample Factory's per-element input
normalisation cost the learner a fifth of its time and held the lock that inference waits on
(docs/performance.md).

The untrained policy has a prior (``--action_prior``, default 0.05): it picks among the
action types wait, move, rotate and use equally (then equally among a type's inputs, so
rotating is not 4 times as likely as using), and gives all other actions (attacks,
shield, gifts, bonds, marks) that much probability in total instead of 14/22. Every one
of those costs energy, and a uniformly random agent spends all of its on them (a raised
shield's upkeep eats the regeneration, so it can never pay to lower it): it never earns
a heart on ``metta-teams``, leaving training no reward to learn from. The prior is only
the output layer's initial bias; learning moves it like any other weight.
"""
from __future__ import annotations

import math
import multiprocessing

import torch
from torch import nn

from sample_factory.algo.utils.running_mean_std import RunningMeanStdInPlace, running_mean_std_summaries
from sample_factory.algo.utils.torch_utils import calc_num_elements
from sample_factory.model.actor_critic import default_make_actor_critic_func
from sample_factory.model.encoder import Encoder
from sample_factory.model.model_utils import create_mlp, nonlinearity

from metta.scripted.teacher import student_space
from metta.sf_integration.architectures import (ARCHITECTURES, DEFAULT_ARCHITECTURE, LEGACY_ARCHITECTURE,  # noqa: F401
                                                Architecture, add_model_args, architecture, architecture_of_weights,
                                                check_resume)
from metta.sf_integration.config import cfg_value
from metta.sf_integration.env import GRID_KEY, SELF_KEY
from metta.sf_integration.supervisor import start_process


class ConvEncoder(Encoder):
    """``conv``: a 1x1 cell embedding, two 3x3 convolutions, an MLP (module docstring). Its attribute names are
    the keys of its checkpoints' weights: keep them."""

    CELL_EMBEDDING, CONV_CHANNELS = 16, 32

    def __init__(self, cfg, obs_space):
        super().__init__(cfg)
        channels = obs_space[GRID_KEY].shape[0]
        self.grid = nn.Sequential(
            nn.Conv2d(channels, self.CELL_EMBEDDING, 1), nonlinearity(cfg),
            nn.Conv2d(self.CELL_EMBEDDING, self.CONV_CHANNELS, 3, stride=2), nonlinearity(cfg),
            nn.Conv2d(self.CONV_CHANNELS, self.CONV_CHANNELS, 3), nonlinearity(cfg),
            nn.Flatten(),
        )
        flat = calc_num_elements(self.grid, obs_space[GRID_KEY].shape)
        self.grid_mlp = create_mlp(list(cfg.encoder_conv_mlp_layers), flat, nonlinearity(cfg))
        self.self_mlp = create_mlp(list(cfg.encoder_mlp_layers), obs_space[SELF_KEY].shape[0], nonlinearity(cfg))
        self.out_size = (calc_num_elements(self.grid_mlp, (flat,))
                         + calc_num_elements(self.self_mlp, obs_space[SELF_KEY].shape))

    def forward(self, obs_dict):
        # PyTorch's CPU convolutions run faster on channels-last tensors (same weights)
        grid = self.grid_mlp(self.grid(obs_dict[GRID_KEY].contiguous(memory_format=torch.channels_last)))
        return torch.cat([grid, self.self_mlp(obs_dict[SELF_KEY])], dim=1)

    def get_out_size(self) -> int:
        return self.out_size


class FlatEncoder(Encoder):
    """``flat``: each cell's channels embedded by one linear map, the cells flattened in place, an MLP."""

    def __init__(self, cfg, obs_space):
        super().__init__(cfg)
        height, width, channels = obs_space[GRID_KEY].shape
        default = ARCHITECTURES["flat"].cell_embedding
        assert default is not None  # the flat architecture names its embedding's size
        embedding = int(cfg_value(cfg, "cell_embedding") or default)
        self.embed = nn.Linear(channels, embedding)
        self.act = nonlinearity(cfg)
        flat = height * width * embedding
        self.grid_mlp = create_mlp(list(cfg.encoder_conv_mlp_layers), flat, nonlinearity(cfg))
        self.self_mlp = create_mlp(list(cfg.encoder_mlp_layers), obs_space[SELF_KEY].shape[0], nonlinearity(cfg))
        self.out_size = (calc_num_elements(self.grid_mlp, (flat,))
                         + calc_num_elements(self.self_mlp, obs_space[SELF_KEY].shape))

    def forward(self, obs_dict):
        cells = self.act(self.embed(obs_dict[GRID_KEY]))          # (B, H, W, embedding)
        return torch.cat([self.grid_mlp(cells.flatten(1)), self.self_mlp(obs_dict[SELF_KEY])], dim=1)

    def get_out_size(self) -> int:
        return self.out_size


class ChannelNormalizer(nn.Module):
    """Inputs normalised for ``flat``: the grid per channel, ``self`` per element.

    The grid's channels (last axis) are shifted and scaled by a running mean and standard deviation, updated in
    training (the learner) from the first quarter of each batch, and applied in the same pass that turns the
    uint8 grid into floats. A standard deviation below ``MIN_STD`` counts as ``MIN_STD``: a rare one-hot channel
    (an altar in 1 cell of 300) then shows as about 5 where it is present, as Sample Factory's clipping at 5 would
    have it. ``self`` goes through Sample Factory's own per-element running mean/std. Drop-in for Sample
    Factory's ``ObservationNormalizer`` (``actor_critic.obs_normalizer``)."""

    MIN_STD = 0.2
    SAMPLE_SHARE = 4  # statistics from the first 1/4 of each training batch

    # the buffers __init__ registers (nn.Module serves them as attributes)
    grid_mean: torch.Tensor
    grid_var: torch.Tensor
    grid_count: torch.Tensor

    def __init__(self, obs_space):
        super().__init__()
        channels = obs_space[GRID_KEY].shape[-1]
        self.register_buffer("grid_mean", torch.zeros(channels, dtype=torch.float64))
        self.register_buffer("grid_var", torch.ones(channels, dtype=torch.float64))
        self.register_buffer("grid_count", torch.zeros(1, dtype=torch.float64))
        self.self_norm = RunningMeanStdInPlace(obs_space[SELF_KEY].shape)

    @torch.no_grad()
    def _update(self, grid: torch.Tensor) -> None:
        rows = grid[:max(1, len(grid) // self.SAMPLE_SHARE)].reshape(-1, grid.shape[-1]).float()
        n = rows.shape[0]
        ones = torch.ones(1, n)
        # sums by matrix products (float32 holds integer sums of uint8 values exactly up to 2^24 / 255 rows)
        mean = (ones @ rows).double().squeeze(0) / n
        var = ((ones @ rows.square()).double().squeeze(0) / n - mean.square()).clamp(min=0)
        total = self.grid_count + n
        delta = mean - self.grid_mean
        self.grid_var.copy_((self.grid_var * self.grid_count + var * n + delta.square() * self.grid_count * n / total)
                            / total)
        self.grid_mean.add_(delta * n / total)
        self.grid_count.copy_(total)

    def forward(self, obs: dict) -> dict:
        with torch.no_grad():
            grid = obs[GRID_KEY]
            if self.training:
                self._update(grid)
            scale = 1.0 / self.grid_var.sqrt().clamp(min=self.MIN_STD)
            out = type(obs)()  # Sample Factory's TensorDict, or a dict
            x = grid.float()  # then one in-place pass: measured faster on the CPU than a mixed-type addcmul
            out[GRID_KEY] = torch.addcmul((-self.grid_mean * scale).float(), x, scale.float(), out=x)
            own = obs[SELF_KEY].float().clone()
            self.self_norm(own)  # in place
            out[SELF_KEY] = own
            for key in [k for k in obs.keys() if k not in (GRID_KEY, SELF_KEY)]:
                out[key] = obs[key]  # what the model does not read passes unchanged, as Sample Factory's does
        return out

    def summaries(self) -> dict:
        return {"obs_grid_mean": self.grid_mean.float().mean(), "obs_grid_std": self.grid_var.sqrt().float().mean(),
                **running_mean_std_summaries(self.self_norm)}


ENCODERS = {"flat": FlatEncoder, "conv": ConvEncoder}  # each architecture's (metta.sf_integration.architectures)


def make_metta_encoder(cfg, obs_space) -> Encoder:
    start_process()  # the patches, and joining the run, in a worker that builds no env (the supervisor's docstring)
    return ENCODERS[architecture(cfg).name](cfg, obs_space)


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
        # Sample Factory runs every process on one torch thread; on 2 CPU cores the learner's backprop was the
        # bottleneck while the other processes left cores idle (docs/performance.md)
        torch.set_num_threads(int(learner_threads))
    start_process()  # kickstarting's loss, in the process whose learner builds this model (patches.patch_learner)
    obs_space = student_space(obs_space)  # the teacher's keys travel beside the observation, never into the model
    arch = architecture(cfg)
    model = default_make_actor_critic_func(cfg, obs_space, action_space)
    if arch.channel_normalizer and cfg_value(cfg, "normalize_input"):
        model.obs_normalizer = ChannelNormalizer(obs_space)
    if ENCODERS[arch.name] is ConvEncoder:
        # set after Sample Factory's orthogonal initialisation, which needs the weights contiguous
        for module in model.modules():
            if isinstance(module, ConvEncoder):
                # (torch documents to(memory_format=...) on modules; its annotations give no such overload)
                module.grid.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    logits = cfg_value(cfg, "action_prior_logits")
    if logits:
        with torch.no_grad():
            model.action_parameterization.distribution_linear.bias.copy_(torch.tensor(logits))
    return model
