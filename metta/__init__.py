"""Metta: a research platform for the emergence of cooperation in multi-agent RL, on Griddly."""
from metta.errors import ConfigError
from metta.env import MettaEnv, make_env
from metta.presets import PRESETS

__all__ = ["ConfigError", "MettaEnv", "make_env", "PRESETS"]
