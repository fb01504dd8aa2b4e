import contextlib
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GAME = os.path.join(ROOT, "games", "metta.yaml")


@contextlib.contextmanager
def config_error(*words):
    """Expect a ConfigError whose message contains every one of ``words``; yields the message holder."""
    from metta import ConfigError

    with pytest.raises(ConfigError) as err:
        yield err
    msg = str(err.value)
    for w in words:
        assert w in msg, f"{w!r} not in: {msg}"


class Scene:
    """A scripted level on the real game: act by action name, read Griddly's own state."""

    def __init__(self, level: str, game: str | None = None, **overrides):
        from metta import make_env

        # regeneration off unless a test asks for it, so energy moves only by the rule under test
        overrides.setdefault("agent_energy_regen", 0)
        self.env = make_env("metta-solo", level=level, game=game, overrides=overrides)
        self.env.reset(seed=0)
        self.values = self.env.game.named_values()
        self.rewards = None

    def a(self, name: str, action_id: int = 1) -> int:
        return self.env.engine.action_index(name, action_id)

    def act(self, *per_agent):
        """One step; per_agent[i] is None (wait), an action name, or (name, input id)."""
        actions = {}
        for i, act in enumerate(per_agent):
            if act is None:
                actions[f"agent_{i}"] = 0
            elif isinstance(act, tuple):
                actions[f"agent_{i}"] = self.a(*act)
            else:
                actions[f"agent_{i}"] = self.a(act)
        obs, rew, term, trunc, info = self.env.step(actions)
        self.rewards = [rew.get(f"agent_{i}", 0.0) for i in range(len(self.env.possible_agents))]
        return obs

    def agent(self, i: int) -> dict:
        return self.env.agent_variables()[i]

    def objects(self, name: str) -> list[dict]:
        return [dict(location=tuple(o["Location"]), **o["Variables"]) for o in self.env.state()["Objects"]
                if o["Name"] == name]


@pytest.fixture
def scene():
    return Scene
