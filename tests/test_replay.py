"""Replays: the file holds env.state() of every step of a seeded episode, and bad files are clear errors."""
import gzip
import json
import os

import numpy as np
import pytest

from metta import make_env
from metta.evals.play import play_episode
from metta.evals.policies import RandomPolicy
from metta.viz.replay import Recorder, read_replay
from metta.viz.replay.__main__ import main
from conftest import config_error

STEPS = 60


def _key(obj):
    return obj["Name"], obj["PlayerId"], obj["Location"]


@pytest.fixture(scope="module")
def episode(tmp_path_factory):
    """A seeded random episode on metta-teams with bodies (24 agents), recorded, and the env's own record of it."""
    env = make_env("metta-teams", seed=11, max_steps=STEPS, bodies={"light": 1, "heavy": 1})
    policy = RandomPolicy(env.action_space("agent_0").n, 11)
    truth = {"states": [], "actions": [], "rewards": [], "raw": [], "infos": None}
    recorder = Recorder("random")

    class Watch:  # the env's values as play_episode hands them over, beside the recorder under test
        def begin(self, env, seed):
            recorder.begin(env, seed)

        def step(self, actions, rewards, infos):
            recorder.step(actions, rewards, infos)
            truth["actions"].append([actions[a] for a in env.possible_agents])
            truth["rewards"].append([rewards[a] for a in env.possible_agents])
            truth["raw"].append([infos[a]["raw_reward"] for a in env.possible_agents])
            truth["infos"] = infos

    play_episode(env, policy, 11, film=lambda: truth["states"].append(env.state()), record=Watch())
    path = str(tmp_path_factory.mktemp("replay") / "episode.replay.json.gz")
    recorder.write(path)
    truth.update(kinship=env.kinship, body_ids=env.body_ids.copy(), agents=list(env.possible_agents))
    env.close()
    return path, truth


def test_replay_states_equal_env_state_at_every_step(episode):
    path, truth = episode
    replay = read_replay(path)
    assert replay.steps == STEPS and len(truth["states"]) == STEPS + 1
    for t, state in enumerate(truth["states"]):
        got = replay.state(t)
        for key in ("GameTicks", "PlayerCount", "Grid", "GlobalVariables"):
            assert got[key] == state[key], f"step {t}: {key}"
        assert sorted(got["Objects"], key=_key) == sorted(state["Objects"], key=_key), f"step {t}: objects"
    # scrubbing back and forth rebuilds the same states
    assert replay.state(3) == read_replay(path).state(3)
    assert sorted(replay.state(STEPS)["Objects"], key=_key) == sorted(truth["states"][-1]["Objects"], key=_key)


def test_replay_holds_the_episodes_actions_rewards_kinship_and_metrics(episode):
    path, truth = episode
    replay = read_replay(path)
    assert replay["actions"] == truth["actions"]
    assert replay["rewards"] == truth["rewards"] and replay["raw_rewards"] == truth["raw"]
    assert np.array_equal(np.array(replay["kinship"]), truth["kinship"])
    assert replay["bodies"]["ids"] == truth["body_ids"].tolist() and set(replay["bodies"]["ids"]) == {1, 2}
    assert replay["bodies"]["names"][1:] == ["light", "heavy"]
    assert replay["metrics"] == [truth["infos"][a]["episode"] for a in truth["agents"]]
    # the events are the env's own attributions: their totals per agent are the episode's kin/stranger counts
    for counter, hit in (("attacks", "attacks_on"), ("gifts", "gifts_to")):
        for i, m in enumerate(replay["metrics"]):
            mine = [e for e in replay["events"] if e[1] == counter and e[2] == i]
            assert sum(e[4] for e in mine) == m[f"{hit}_kin"] and sum(not e[4] for e in mine) == m[f"{hit}_strangers"]
    assert any(e[1] == "attacks" for e in replay["events"])  # random play on 24 agents attacks someone
    for t, _, i, j, kin in replay["events"]:
        assert (1 <= t <= STEPS and 0 <= j < replay["num_agents"]
                and kin == (truth["kinship"][i, j] >= replay["kin_threshold"]))


def _write(path, text: bytes, compress=True):
    with open(path, "wb") as fh:
        fh.write(gzip.compress(text) if compress else text)
    return str(path)


def _bad_files(tmp_path, good):
    data = json.loads(gzip.decompress(open(good, "rb").read()))
    newer = dict(data, version=99)
    short = dict(data, actions=data["actions"][:-1])
    whole = gzip.compress(json.dumps(data).encode())
    return {
        "missing": (str(tmp_path / "nope.replay.json.gz"), ["no such replay file"]),
        "not gzip": (_write(tmp_path / "plain.json", b'{"format": "metta-replay"}', compress=False), ["gzip"]),
        "truncated": (_write(tmp_path / "cut.gz", whole[: len(whole) // 2], compress=False), ["gzip"]),
        "not json": (_write(tmp_path / "text.gz", b"hello"), ["not JSON"]),
        "other json": (_write(tmp_path / "other.gz", b'{"a": 1}'), ["metta-replay"]),
        "version": (_write(tmp_path / "v99.gz", json.dumps(newer).encode()), ["version 99", "version 1"]),
        "short": (_write(tmp_path / "short.gz", json.dumps(short).encode()), ["actions", f"expected {STEPS}"]),
        "wrong type": (_write(tmp_path / "type.gz", json.dumps(dict(data, steps="many")).encode()), ["steps"]),
    }


def test_bad_replay_files_are_clear_errors_naming_the_file(tmp_path, episode, capsys):
    for what, (path, words) in _bad_files(tmp_path, episode[0]).items():
        with config_error(path, *words):
            read_replay(path)
        assert main([path, f"--out={tmp_path / 'page.html'}"]) == 1, what
        err = capsys.readouterr().err
        assert err.startswith("error: ") and path in err and "Traceback" not in err, what
    assert not os.path.exists(tmp_path / "page.html")


def test_write_is_atomic_and_checked(tmp_path, episode):
    """A replay that does not pass the format's own checks is never written; what was there stays."""
    good = read_replay(episode[0]).data
    target = tmp_path / "r.replay.json.gz"
    target.write_bytes(b"previous")
    with config_error(str(target), "actions"):
        from metta.viz.replay import write_replay

        write_replay(str(target), dict(good, actions=good["actions"][:1]))
    assert target.read_bytes() == b"previous" and os.listdir(tmp_path) == ["r.replay.json.gz"]
