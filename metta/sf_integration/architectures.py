"""The policy's architectures by name (``--architecture``), without the model: what an env, a saved config.json, a
checkpoint or a model card needs to know of one, without importing Sample Factory. Their encoders are in
metta.sf_integration.model (``ENCODERS``)."""
from __future__ import annotations

from dataclasses import dataclass

from metta.errors import ConfigError
from metta.sf_integration.config import cfg_value


@dataclass(frozen=True)
class Architecture:
    name: str
    layout: str            # the grid Sample Factory sees: "cwh" (the env's (C, W, H)) or "hwc" (channels last)
    channel_normalizer: bool  # ChannelNormalizer instead of Sample Factory's per-element one
    weight_key: str        # a key only this architecture's checkpoints hold
    cell_embedding: int | None = None
    description: str = ""


ARCHITECTURES = {
    "flat": Architecture("flat", "hwc", True, "encoder.embed.weight", cell_embedding=8,
                         description="per-cell linear embedding, flattened, MLP; inputs normalised per channel"),
    "conv": Architecture("conv", "cwh", False, "encoder.grid.0.weight",
                         description="1x1 embedding, two 3x3 convolutions, MLP; inputs normalised per element"),
}
DEFAULT_ARCHITECTURE = "flat"
LEGACY_ARCHITECTURE = "conv"  # what a config.json without "architecture" was trained with


def architecture(cfg) -> Architecture:
    """The architecture ``cfg`` (a parsed config or a loaded config.json) names; ``conv`` when it names none."""
    name = cfg_value(cfg, "architecture") or LEGACY_ARCHITECTURE
    if name not in ARCHITECTURES:
        raise ConfigError(f"unknown architecture {name!r}; known: {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[name]


def architecture_of_weights(state_dict: dict) -> str | None:
    """Which architecture a checkpoint's ``model`` weights are (None: none of ours)."""
    return next((a.name for a in ARCHITECTURES.values() if a.weight_key in state_dict), None)


def add_model_args(parser) -> None:
    g = parser.add_argument_group("metta model", "the policy's encoder (metta.sf_integration.model)")
    g.add_argument("--architecture", default=DEFAULT_ARCHITECTURE, choices=list(ARCHITECTURES),
                   help="the encoder: " + "; ".join(f"{a.name}: {a.description}" for a in ARCHITECTURES.values())
                        + f" (default {DEFAULT_ARCHITECTURE}; a run resumes with its own)")
    g.add_argument("--cell_embedding", type=int, default=None, metavar="N",
                   help="flat: channels of each cell's embedding (default "
                        f"{ARCHITECTURES['flat'].cell_embedding})")


def check_resume(cli_args: dict, saved: dict) -> str:
    """The architecture a resumed run must keep: the saved config.json's (``conv`` if it names none). A command
    line asking for another is refused, naming both."""
    kept = architecture(saved).name
    asked = cli_args.get("architecture")
    if asked is not None and asked != kept:
        raise ConfigError(f"--architecture={asked}: the experiment was trained with architecture {kept!r} and its "
                          f"checkpoints hold {kept} weights; resume it with --architecture={kept}, or train {asked} "
                          f"into a new --experiment")
    return kept
