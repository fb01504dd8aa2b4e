"""The environment: a PettingZoo ``ParallelEnv`` over Griddly (core), the named presets it starts
from (presets), several envs stepped as one (batch). ``make_env(name, ...)`` builds one."""
from metta.env.core import OBS_BACKENDS, MettaEnv, make_env
from metta.env.presets import PRESETS, get_preset

__all__ = ["OBS_BACKENDS", "MettaEnv", "make_env", "PRESETS", "get_preset"]
