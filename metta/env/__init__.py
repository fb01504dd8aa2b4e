"""The environment: its typed config (config), the named presets it starts from (presets), the observation
backends (backends), a PettingZoo ``ParallelEnv`` over Griddly (core), several envs stepped as one (batch).
``make_env(config or preset name, ...)`` builds one."""
from metta.env.backends import BACKENDS, register_backend
from metta.env.config import EnvConfig
from metta.env.core import MettaEnv, make_env
from metta.env.presets import PRESETS, get_preset

__all__ = ["BACKENDS", "EnvConfig", "MettaEnv", "make_env", "PRESETS", "get_preset", "register_backend"]
