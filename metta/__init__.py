"""Metta: a research platform for the emergence of cooperation in multi-agent RL, on Griddly.

``import metta`` does nothing but name what it holds; ``metta.make_env`` loads the env on first use.
Packages: env (the PettingZoo env and its presets), griddly_ext (game files, levels, Griddly's engine and
observations), society (kinship, bodies, social metrics), sf_integration (training with Sample Factory),
evals, experiments (sweeps), viz (render, video, replay), bench (measuring the env), runtime (process and
file plumbing)."""
from metta.errors import ConfigError

__all__ = ["ConfigError", "MettaEnv", "make_env", "PRESETS"]


def __getattr__(name: str):
    if name in ("MettaEnv", "make_env", "PRESETS"):
        import metta.env

        return getattr(metta.env, name)
    raise AttributeError(f"module 'metta' has no attribute {name!r}")
