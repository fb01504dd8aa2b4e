"""Metta: a research platform for the emergence of cooperation in multi-agent RL, on Griddly."""
from metta.lifetime import watch_parent

watch_parent()  # a child of a metta command dies with it (metta.lifetime)

from metta.errors import ConfigError  # noqa: E402
from metta.env import MettaEnv, make_env  # noqa: E402
from metta.presets import PRESETS  # noqa: E402

__all__ = ["ConfigError", "MettaEnv", "make_env", "PRESETS"]
