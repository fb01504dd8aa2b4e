"""Observation backends: how every agent's egocentric window is cut from one global view of the grid.

A backend is a factory ``(layout, num_agents) -> WindowBackend``, registered under a name with
``register_backend``; ``EnvConfig.obs_backend`` (and ``make_env(obs_backend=...)``) takes any registered
name. Every backend must give the same bytes as ``"griddly"``, the reference: Griddly's own per-player
observers, which needs no factory (the env asks the engine for them instead). The contract of a
window is metta.griddly_ext.windows' docstring; tests/conformance checks every registered backend against the
reference on every shipped game, with no test edited.

Adding a backend is one module with a class shaped like ``WindowBackend`` and one ``register_backend``
line below (or in that module, imported by whoever uses it).
"""
from __future__ import annotations

from typing import Callable, Protocol

import numpy as np

from metta.errors import ConfigError
from metta.griddly_ext.windows import WindowLayout

REFERENCE = "griddly"  # Griddly's per-player observers: the bytes every backend must reproduce


class WindowBackend(Protocol):
    """Renders N agents' windows from one global view in one call, into ``out`` when given."""

    def render(self, view: np.ndarray, xs: np.ndarray, ys: np.ndarray, facing: np.ndarray,
               agent_table: np.ndarray, noise_q: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``view``: the global VECTOR observation ``(channels, width, height)``; ``xs``, ``ys``, ``facing``:
        each agent's cell and orientation; ``agent_table``: the kinship each agent sees of each other (column 0:
        no agent); ``noise_q``: each agent's quantised kinship noise. Returns ``(N, H, W, C)`` uint8 windows."""
        ...

    def close(self) -> None:
        """Release what the backend holds (device memory, buffers)."""
        ...


BackendFactory = Callable[[WindowLayout, int], WindowBackend]
BACKENDS: dict[str, BackendFactory | None] = {}  # name -> factory; None: the reference (no factory)


def register_backend(name: str, factory: BackendFactory | None) -> None:
    """Make ``name`` a valid ``obs_backend``; ``factory(layout, num_agents)`` builds its renderer."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a backend's name is a non-empty string, got {name!r}")
    if name in BACKENDS:
        raise ValueError(f"observation backend {name!r} is already registered")
    BACKENDS[name] = factory


def backend_names() -> tuple[str, ...]:
    return tuple(BACKENDS)


def check_backend(name: object) -> str:
    """``name`` if it is a registered backend; ConfigError naming the choices otherwise."""
    if not isinstance(name, str) or name not in BACKENDS:
        raise ConfigError(f"obs_backend must be one of {', '.join(BACKENDS)}, got {name!r}")
    return name


def make_backend(name: str, layout: WindowLayout, num_agents: int) -> WindowBackend:
    factory = BACKENDS[check_backend(name)]
    if factory is None:
        raise ValueError(f"{name!r} is the reference backend: the engine's per-player observers, no renderer")
    return factory(layout, num_agents)


def _numba(layout: WindowLayout, num_agents: int) -> WindowBackend:
    from metta.griddly_ext.compiled_windows import CompiledWindows

    return CompiledWindows(layout, num_agents)


def _numpy(layout: WindowLayout, num_agents: int) -> WindowBackend:
    from metta.griddly_ext.windows import NumpyWindows

    return NumpyWindows(layout, num_agents)


def _vulkan(layout: WindowLayout, num_agents: int) -> WindowBackend:
    from metta.griddly_ext.vulkan_windows import VulkanWindows  # lazily: it needs the Vulkan loader

    return VulkanWindows(layout, num_agents)


register_backend("numba", _numba)  # the default: the numpy computation compiled
register_backend("numpy", _numpy)
register_backend("vulkan", _vulkan)
register_backend(REFERENCE, None)
