"""Evaluation videos and stats: the mp4 decodes to every frame, stats.json is the env's own metrics."""
import json
import os

import cv2
from PIL import Image
import pytest

from metta import make_env
from metta.evals.policies import RandomPolicy
from metta.viz.replay import read_replay
from metta.evals.evaluate import main
from metta.viz.video import InfoPanel

STEPS, EPISODES = 12, 2


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    train_dir = str(tmp_path_factory.mktemp("train_dir"))
    assert main(["--env=metta-teams", "--policy=random", f"--train_dir={train_dir}", f"--max_steps={STEPS}",
                 f"--episodes={EPISODES}", "--seed=5", "--fps=6"]) == 0
    return os.path.join(train_dir, "random", "eval")


@pytest.mark.slow
def test_mp4_decodes_to_every_frame(run):
    cap = cv2.VideoCapture(os.path.join(run, "metta-teams.mp4"))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    assert len(frames) == EPISODES * (STEPS + 1)  # the start of each episode, then every step
    assert frames[0].shape == (40 * 16, 40 * 16 + InfoPanel.WIDTH, 3)  # the map, and the panel beside it
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(6)
    with Image.open(os.path.join(run, "metta-teams.gif")) as gif:
        assert gif.n_frames == EPISODES * (STEPS + 1) and gif.size == ((40 * 16 + InfoPanel.WIDTH) // 2, 40 * 8)


def assert_replays(stats):
    """Each episode of a random policy seeded 5 in stats.json is the env's own metrics for the same seeds."""
    env = make_env("metta-teams", seed=5, max_steps=STEPS)
    policy = RandomPolicy(env.action_space("agent_0").n, 5)
    for k, episode in enumerate(stats["episodes"]):
        obs, _ = env.reset(seed=5 + k)
        while env.agents:
            obs, _, _, _, infos = env.step(policy.act(obs))
        assert episode["agents"] == {a: infos[a]["episode"] for a in env.possible_agents}


@pytest.mark.slow
def test_stats_are_the_envs_metrics_for_the_same_seed(run):
    with open(os.path.join(run, "stats.json")) as fh:
        stats = json.load(fh)
    assert_replays(stats)
    for k, episode in enumerate(stats["episodes"]):  # each episode's replay beside the video, named in stats.json
        assert episode["replay"] == f"metta-teams.seed{5 + k}.replay.json.gz"
        replay = read_replay(os.path.join(run, episode["replay"]))
        assert replay["seed"] == 5 + k and replay.steps == STEPS
        assert replay["metrics"] == [episode["agents"][a] for a in replay["agents"]]
    assert stats["video"]["frames"] == EPISODES * (STEPS + 1) and stats["video"]["codec"] in ("h264", "vp9")


@pytest.mark.parametrize("args, words, code", [  # exit 2: the command line cannot run; 1: bad data (metta.errors)
    (["--experiment=nope"], ["nope", "not found"], 1),
    (["--experiment=empty"], ["empty", "no checkpoint"], 1),
    (["--policy=clever"], ["clever", "random"], 2),
    ([], ["--experiment"], 2),
])
def test_bad_requests_are_clear_errors(tmp_path, capsys, args, words, code):
    os.makedirs(tmp_path / "empty")
    assert main(args + [f"--train_dir={tmp_path}"]) == code
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    for w in words:
        assert w in err


@pytest.mark.parametrize("film", [0, 1])
def test_film_bounds_the_video_not_the_episodes(tmp_path, film):
    """The same episodes and metrics whether 0 or 1 of them is filmed; only the first ``film`` are on video."""
    from metta.evals.evaluate import evaluate

    stats = evaluate("metta-teams", policy="random", train_dir=str(tmp_path), episodes=EPISODES, max_steps=STEPS,
                     seed=5, tile_size=4, gif=False, progress=False, film=film)
    assert_replays(stats)
    mp4 = tmp_path / "random" / "eval" / "metta-teams.mp4"
    if film == 0:
        assert stats["video"] is None and not mp4.exists()
    else:
        assert stats["video"]["episodes"] == 1 and stats["video"]["frames"] == STEPS + 1 and mp4.exists()


def test_ctrl_c_stops_an_evaluation_without_a_traceback(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-m", "metta.evals.evaluate", "--policy=random",
                             f"--train_dir={tmp_path}", "--episodes=50", "--film=0", "--replays=0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        end = time.monotonic() + 120  # a bounded wait for its first episode to start (never a measured time)
        while time.monotonic() < end and not any(tmp_path.iterdir()) and proc.poll() is None:
            time.sleep(0.1)
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode != 0
    assert "Traceback" not in err and "stopped by SIGINT" in err, err[-2000:]


def test_a_paired_evaluation_plays_each_seed_twice_with_the_arms_swapped(tmp_path):
    """--paired: every seed twice, the second time each team at the other arm; the same maps (the level, the teams);
    --probes keeps each episode's probe tallies per arm, summing what metta.evals.probes records."""
    from metta.evals.probes import Prober

    assert main(["--env=metta-kin-dilemma", "--policy=random", f"--train_dir={tmp_path}", "--max_steps=15",
                 "--episodes=2", "--seed=3", "--film=0", "--paired", "--probes"]) == 0
    stats = json.load(open(tmp_path / "random" / "eval" / "stats.json"))
    eps = stats["episodes"]
    assert [(e["seed"], e["swapped"]) for e in eps] == [(3, False), (3, True), (4, False), (4, True)]
    assert [e["replay"] is not None for e in eps] == [True, False, True, False]
    for first, second in (eps[:2], eps[2:]):
        for agent, m in first["agents"].items():
            assert second["agents"][agent]["team_reward"] == 1.0 - m["team_reward"]
        assert sorted(m["team_reward"] for m in first["agents"].values()) == [0.0] * 6 + [1.0] * 6
    # the maps and teams are the same: the env draws them from the seed alike, whichever arm each team takes
    env = make_env("metta-kin-dilemma", max_steps=15)
    try:
        env.reset(seed=3)
        level, kinship = env.level, env.kinship.copy()
        env.reset(seed=3, options={"swap_arms": True})
        assert env.level == level and (env.kinship == kinship).all()
        # the tallies: probe the same random policy's first episode by hand and compare the in-reach counts
        policy = RandomPolicy(env.action_space("agent_0").n, seed=3)
        prober = Prober(env, policy, 3)
        obs, _ = env.reset(seed=3)
        prober.step(obs)
        assert all(r["arm"] in (0.0, 1.0) for r in prober.records)
    finally:
        env.close()
    tally = eps[0]["probes"]
    assert tally["all"]["in_reach"]["n"] == sum(tally["by_arm"][a]["in_reach"]["n"] for a in tally["by_arm"])
    assert tally["all"]["actionable"]["n"] <= tally["all"]["in_reach"]["n"]
    assert tally["all"]["in_reach"]["n"] > 0 and tally["all"]["in_reach"]["sum"] == 0.0   # random: blind to kin


def test_paired_needs_a_structure_with_arms(tmp_path, capsys):
    assert main(["--env=metta-teams", "--policy=random", f"--train_dir={tmp_path}", "--max_steps=5",
                 "--film=0", "--paired"]) == 2
    assert "has none" in capsys.readouterr().err
