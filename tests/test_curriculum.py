"""The curriculum: samplers against hand computation, specs read strictly, arenas walled apart, eval levels held
out, the time left exact, and a tiny training run that logs its task weights."""
import glob
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, config_error

CURRICULA = sorted(glob.glob(os.path.join(ROOT, "games", "curricula", "*.yaml")))
TINY_SPEC = """\
score: hearts
sampler: {kind: learning_progress, fast: 0.5, slow: 0.1, explore: 0.2}
tasks:
  plain: {}
  split:
    map: {arenas: 2}
    objects: {altar: 2, generator: [2, 4], charger: 2}
    max_steps: {low: 20, high: 40}
  rich:
    overrides: {agent_initial_energy: [100, 250]}
    max_steps: [30, 60]
  wide:
    map: {width: 12}
    max_steps: 25
"""
TINY_ENV = dict(width=10, height=10, num_agents=4, team_size=2, generators=4, chargers=2, altars=2, max_steps=40)


def tiny_base():
    from metta.env.presets import get_preset

    return get_preset("metta-teams").override(TINY_ENV)


def write(tmp_path, text, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# ---------------------------------------------------------------- samplers, by hand
def test_learning_progress_probabilities_match_hand_computation():
    from metta.curriculum.samplers import LearningProgressSampler

    s = LearningProgressSampler([1, 1, 2], fast=0.5, slow=0.1, explore=0.2)  # weights w = 1/4, 1/4, 1/2
    np.testing.assert_allclose(s.probabilities(), [0.05 + 0.8 / 3, 0.05 + 0.8 / 3, 0.1 + 0.8 / 3])  # all progress 1
    s.update(0, 0.0)   # fast = slow = 0
    s.update(0, 1.0)   # fast = 0 + 0.5 * 1 = 0.5, slow = 0 + 0.1 * 1 = 0.1: progress 0.4
    s.update(1, 2.0)   # fast = slow = 2: progress 0
    np.testing.assert_allclose(s.fast[:2], [0.5, 2.0])
    np.testing.assert_allclose(s.slow[:2], [0.1, 2.0])
    # task 2 unscored counts as the largest progress, 0.4: lp = (0.4, 0, 0.4), sum 0.8
    np.testing.assert_allclose(s.progress(), [0.4, 0.0, 0.4])
    np.testing.assert_allclose(s.probabilities(), [0.2 * 0.25 + 0.8 * 0.5, 0.2 * 0.25, 0.2 * 0.5 + 0.8 * 0.5])
    s.update(1, 4.0)   # fast = 2 + 0.5 * 2 = 3, slow = 2 + 0.1 * 2 = 2.2: progress 0.8
    np.testing.assert_allclose(s.probabilities(), [0.05 + 0.8 * 0.2, 0.05 + 0.8 * 0.4, 0.1 + 0.8 * 0.4])
    np.testing.assert_allclose(s.recent[:2], [0.1, 2.2])  # the reported average: step 0.1
    assert s.counts.tolist() == [2, 2, 0]


def test_without_progress_the_weights_decide_and_draws_follow_the_probabilities():
    from metta.curriculum.samplers import LearningProgressSampler, WeightedSampler

    s = LearningProgressSampler([3, 1], fast=0.5, slow=0.1, explore=0.2)
    s.update(0, 1.0)
    s.update(1, 1.0)
    np.testing.assert_allclose(s.probabilities(), [0.75, 0.25])
    w = WeightedSampler([3, 1])
    for score in (0.0, 5.0, 9.0):
        w.update(0, score)
    np.testing.assert_allclose(w.probabilities(), [0.75, 0.25])
    rng = np.random.default_rng(0)
    draws = np.bincount([w.sample(rng) for _ in range(20_000)], minlength=2) / 20_000
    assert abs(draws[0] - 0.75) < 0.015  # 5 standard errors


@pytest.mark.parametrize("kwargs", [dict(fast=0.1, slow=0.1), dict(fast=1.5, slow=0.1), dict(explore=-0.1)])
def test_bad_sampler_parameters_are_refused(kwargs):
    from metta.curriculum.samplers import LearningProgressSampler

    with pytest.raises(ValueError):
        LearningProgressSampler([1, 1], **kwargs)


# ---------------------------------------------------------------- specs
@pytest.mark.parametrize("path", CURRICULA, ids=os.path.basename)
def test_every_project_curriculum_validates_on_metta_teams(path):
    from metta.curriculum.tasks import load_curriculum
    from metta.env.presets import get_preset

    spec = load_curriculum(path, get_preset("metta-teams"))
    assert spec.tasks


@pytest.mark.parametrize("text, words", [
    ("tasks: {a: {}}\nsampler: {kind: fancy}", ["sampler.kind", "weighted", "learning_progress"]),
    ("tasks: {}", ["at least one task"]),
    ("tasks: {a: {maps: {}}}", ["tasks.a: unknown key maps", "did you mean map?"]),
    ("tasks: {a: {map: {num_agents: 8}}}", ["tasks.a", "map.num_agents", "arenas"]),
    ("tasks: {a: {level: 'W W W'}}", ["tasks.a", "level", "held out"]),
    ("tasks: {a: {max_steps: {low: 50, high: 10}}}", ["tasks.a", "max_steps", "low <= high"]),
    ("tasks: {a: {max_steps: {low: 5}}}", ["tasks.a", "max_steps", "range is {low, high}"]),
    ("tasks: {a: {overrides: {agent_initial_energy: [{x: 1}]}}}", ["overrides.agent_initial_energy", "bucket"]),
    ("tasks: {a: {overrides: {agent_inital_energy: 5}}}", ["tasks.a", "agent_inital_energy"]),
    ("tasks: {a: {map: {width: 3}}}", ["tasks.a", "do not fit"]),
    ("tasks: {a: {map: {arenas: [1, 40]}}}", ["tasks.a", "arenas"]),
    ("tasks: {a: {map: {wdth: 3}}}", ["tasks.a", "unknown key map.wdth", "did you mean map.width?"]),
    ("tasks: {a: {kinship.team_reward: 0}}", ["tasks.a", "kinship.team_reward", "a task changes"]),
    ("tasks: {a: {weight: 0}}", ["tasks.a", "weight", "positive"]),
    ("- a\n- b", ["a curriculum is a mapping"]),
])
def test_a_bad_spec_is_an_error_naming_the_file_and_the_key(tmp_path, text, words):
    from metta.curriculum.tasks import load_curriculum

    path = write(tmp_path, text)
    with config_error(path, *words):
        load_curriculum(path, tiny_base())


def test_a_missing_curriculum_names_the_projects_own():
    from metta.curriculum.tasks import load_curriculum
    from metta.errors import UsageError

    with pytest.raises(UsageError, match="suite"):
        load_curriculum("suiet", tiny_base())


def test_a_task_draws_from_buckets_and_ranges_only():
    from metta.curriculum.tasks import CurriculumSpec

    spec = CurriculumSpec.model_validate({"tasks": {"t": {"overrides": {"a": [1, 2, 3]}, "objects": {"altar": 2},
                                                          "map": {"wall_density": {"low": 0.0, "high": 0.1}},
                                                          "max_steps": {"low": 10, "high": 12}}}})
    rng = np.random.default_rng(0)
    draws = [spec.tasks["t"].changes(rng) for _ in range(300)]
    assert {d["game.overrides.a"] for d in draws} == {1, 2, 3}
    assert {d["max_steps"] for d in draws} == {10, 11, 12}
    assert all(isinstance(d["max_steps"], int) for d in draws)
    assert all(0.0 <= d["map.wall_density"] <= 0.1 for d in draws)
    assert all(d["map.objects.altar"] == 2 for d in draws)


# ---------------------------------------------------------------- arenas
def components(grid, wall="W"):
    """Labels of the 4-connected regions of non-wall cells."""
    h, w = grid.shape
    label = -np.ones((h, w), dtype=int)
    n = 0
    for y in range(h):
        for x in range(w):
            if grid[y, x] != wall and label[y, x] < 0:
                stack = [(y, x)]
                label[y, x] = n
                while stack:
                    cy, cx = stack.pop()
                    for ny, nx in ((cy + 1, cx), (cy - 1, cx), (cy, cx + 1), (cy, cx - 1)):
                        if 0 <= ny < h and 0 <= nx < w and grid[ny, nx] != wall and label[ny, nx] < 0:
                            label[ny, nx] = n
                            stack.append((ny, nx))
                n += 1
    return label


def as_grid(level: str) -> np.ndarray:
    return np.array([row.split() for row in level.strip("\n").splitlines()], dtype=object)


@pytest.mark.parametrize("arenas, layout", [(6, "rooms"), (4, "maze"), (24, "rooms")])
def test_arenas_are_walled_apart_and_deal_agents_in_order(arenas, layout):
    from metta.griddly_ext.levels import generate_level
    from metta.griddly_ext.map_config import MapConfig, arena_grid

    chars = {"agent": "A", "wall": "W", "altar": "a", "generator": "g", "charger": "c"}
    side = 44 if arenas == 24 else 40
    opts = MapConfig(width=side, height=side + 10, num_agents=24, layout=layout, arenas=arenas,
                     objects={"altar": arenas, "generator": 7, "charger": 0}, wall_density=0.05)
    grid = as_grid(generate_level(opts, chars, np.random.default_rng(1)))
    rows, cols = arena_grid(arenas)
    ah, aw = (side + 10) // rows, side // cols
    label = components(grid)
    per_arena = {}
    for y, x in zip(*np.nonzero(grid != "W")):
        arena = (y // ah) * cols + x // aw
        per_arena.setdefault(label[y, x], set()).add(arena)
    assert all(len(a) == 1 for a in per_arena.values())  # no region spans two arenas
    agents = {int(t[1:]): (y // ah) * cols + x // aw for (y, x), t in np.ndenumerate(grid) if t.startswith("A")}
    per = 24 // arenas
    assert agents == {i: (i - 1) // per for i in range(1, 25)}  # consecutive agents share an arena
    gens = [sum(1 for (y, x), t in np.ndenumerate(grid) if t == "g" and (y // ah) * cols + x // aw == k)
            for k in range(arenas)]
    assert gens == [7 // arenas + (k < 7 % arenas) for k in range(arenas)]


def test_bad_arenas_are_clear_errors():
    from metta import make_env

    with config_error("map.arenas", "1..map.num_agents"):
        make_env("metta-teams", arenas=25)
    with config_error("map.arenas=24", "at least 3x3"):
        make_env("metta-teams", arenas=24, width=12, height=12)
    with config_error("arena 0 of 6", "do not fit"):
        make_env("metta-teams", arenas=6, width=12, height=12)


def test_an_arena_map_runs_in_griddly_with_every_agent():
    from pettingzoo.test import parallel_api_test

    from metta import make_env

    env = make_env("metta-teams", seed=0, arenas=6, max_steps=30)
    parallel_api_test(env, num_cycles=30)
    obs, _ = env.reset(seed=3)
    assert len(obs) == 24
    located = [v["location"] for v in env.agent_variables()]
    assert len(set(located)) == 24


# ---------------------------------------------------------------- eval levels held out
def contains(grid: np.ndarray, part: np.ndarray) -> bool:
    """Is ``part`` a sub-grid of ``grid``, agents compared by their character alone?"""
    from numpy.lib.stride_tricks import sliding_window_view

    def norm(g):
        return np.vectorize(lambda t: t[0] if t[0].isalpha() and t[1:].isdigit() and len(t) > 1 else t)(g)

    g, p = norm(grid), norm(part)
    if g.shape[0] < p.shape[0] or g.shape[1] < p.shape[1]:
        return False
    codes = {t: i for i, t in enumerate(set(g.ravel()) | set(p.ravel()))}
    gi, pi = np.vectorize(codes.get)(g), np.vectorize(codes.get)(p)
    return bool((sliding_window_view(gi, pi.shape) == pi).all(axis=(2, 3)).any())


def test_the_held_out_check_finds_an_eval_level_put_inside_a_map():
    from metta.evals.scenarios import SCENARIOS

    maze = as_grid(SCENARIOS["maze"].level())
    grid = np.full((30, 30), ".", dtype=object)
    grid[7:7 + maze.shape[0], 9:9 + maze.shape[1]] = maze
    grid[8, 10] = "A17"  # another agent id: the same level
    assert contains(grid, maze)
    grid[9, 12] = "g"
    assert not contains(grid, maze)


@pytest.mark.parametrize("path", CURRICULA, ids=os.path.basename)
def test_no_training_task_generates_an_eval_level(path):
    from metta.curriculum.tasks import load_curriculum, task_config
    from metta.env.presets import get_preset
    from metta.evals.scenarios import SCENARIOS
    from metta.griddly_ext.gdy import load_gdy
    from metta.griddly_ext.levels import generate_level
    from metta.griddly_ext.map_config import default_counts

    base = get_preset("metta-teams")
    spec = load_curriculum(path, base)
    levels = {name: as_grid(s.level()) for name, s in SCENARIOS.items()}
    rng = np.random.default_rng(0)
    for name, task in spec.tasks.items():
        for _ in range(8):
            cfg = task_config(base, task.changes(rng))
            doc = load_gdy(cfg.game.path).with_overrides(cfg.game.overrides)
            grid = as_grid(generate_level(cfg.map, doc.map_characters(), rng, doc.avatar,
                                          default_counts(doc.named_values())))
            for level_name, level in levels.items():
                assert not contains(grid, level), f"task {name} generated the eval level {level_name}"


# ---------------------------------------------------------------- the curriculum env
def test_a_curriculum_env_plays_each_drawn_task_to_its_own_length(tmp_path):
    from metta.curriculum.env import Curriculum, CurriculumEnv
    from metta.curriculum.tasks import load_curriculum
    from metta.env.batch import EnvBatch

    base = tiny_base()
    spec = load_curriculum(write(tmp_path, TINY_SPEC), base)
    curriculum = Curriculum(spec, base, seed=0)
    envs = [CurriculumEnv(curriculum, seed=i, keep=2) for i in range(2)]
    batch = EnvBatch(envs)
    batch.reset([0, 1])
    rng = np.random.default_rng(0)
    lengths = [0, 0]
    planned = [(e.task_name, e.max_steps, e.map_options.width) for e in envs]
    played = []
    while len(played) < 40:
        _, _, _, _, episodes = batch.step(rng.integers(batch.num_actions, size=batch.num_agents))
        lengths = [n + 1 for n in lengths]
        for i in episodes:
            played.append((planned[i], lengths[i]))
            lengths[i] = 0
            planned[i] = (envs[i].task_name, envs[i].max_steps, envs[i].map_options.width)
    for (task, max_steps, width), length in played:
        assert length == max_steps
        want = {"plain": [40], "split": range(20, 41), "rich": [30, 60], "wide": [25]}[task]
        assert max_steps in want
        assert width == (12 if task == "wide" else 10)
    assert {p[0][0] for p in played} == set(spec.tasks)
    assert curriculum.sampler.counts.sum() == len(played)
    assert all(len(e._variants) <= 2 for e in envs)
    stats = curriculum.stats()
    assert abs(sum(v for k, v in stats.items() if k.endswith("/weight")) - 1) < 1e-9


# ---------------------------------------------------------------- the time left
def test_the_time_features_are_exact_and_restart_with_each_episode():
    from metta import make_env
    from metta.sf_integration.env import MettaSFEnv

    envs = [make_env("metta-teams", seed=i, max_steps=m, **{k: v for k, v in TINY_ENV.items() if k != "max_steps"})
            for i, m in enumerate((7, 11))]
    sf = MettaSFEnv(envs, batched=True, seed=0, time=True)
    obs, _ = sf.reset(seed=0)
    rng = np.random.default_rng(0)
    n = envs[0].num_agents_total
    for t in range(25):
        feats = obs["self"]
        for k, m in enumerate((7, 11)):
            left = m - t % m
            rows = feats[k * n:(k + 1) * n]
            assert (rows[:, -2] == np.float32(left / m)).all(), (t, k, rows[:, -2])
            assert (rows[:, -1] == np.float32(left / 1000)).all()
        obs, *_ = sf.step(rng.integers(sf.action_space.n, size=sf.num_agents))
    plain = MettaSFEnv([make_env("metta-teams", seed=0, **TINY_ENV)], batched=True)
    assert sf.observation_space["self"].shape[0] == plain.observation_space["self"].shape[0] + 2


# ---------------------------------------------------------------- training
TINY = ["--env=metta-teams", "--width=10", "--height=10", "--num_agents=4", "--team_size=2", "--generators=4",
        "--chargers=2", "--altars=2", "--max_steps=40", "--num_workers=1", "--num_envs_per_worker=2",
        "--vector_envs=1", "--rollout=8", "--batch_size=64", "--stats_avg=4", "--experiment_summaries_interval=1",
        "--seed=0", "--decorrelate_envs_on_one_worker=False"]


def train(tmp, *extra):
    cmd = [sys.executable, "-m", "metta.sf_integration.train", *TINY, f"--train_dir={tmp}/train_dir", *extra]
    return subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": ROOT})


LP_SPEC = """\
score: shield_steps
sampler: {kind: learning_progress, fast: 0.5, slow: 0.1, explore: 0.2}
tasks:
  short: {weight: 1, max_steps: 12}
  longer: {weight: 3, max_steps: {low: 15, high: 25}}
  rich: {weight: 2, max_steps: 18, overrides: {agent_initial_energy: [100, 250]}}
"""


def test_the_logged_task_weights_are_the_learning_progress_by_hand(tmp_path):
    """What training hands Sample Factory to log at each episode's end, ``curriculum/<task>/weight`` and ``/score``,
    built as training builds its envs (flags, make_sf_env), against the learning-progress rule worked out here from
    each finished episode's task and score (the agents' mean shield_steps: a score that moves under random play):
    fast and slow averages from the first score, progress |fast - slow|, an unscored task the largest progress (1
    while none has any), p_i = explore w_i + (1 - explore) lp_i / sum lp (w while no task shows progress)."""
    from types import SimpleNamespace

    from metta.sf_integration.env import make_sf_env
    from metta.sf_integration.train import parse_args, register_components

    register_components()
    cfg = parse_args(TINY[:8] + ["--vector_envs=1", "--seed=3", f"--curriculum={write(tmp_path, LP_SPEC)}",
                                 f"--train_dir={tmp_path}"])
    sf = make_sf_env("metta-teams", cfg=cfg, env_config=SimpleNamespace(env_id=0))
    names, w = ["short", "longer", "rich"], [1 / 6, 3 / 6, 2 / 6]
    fast, slow, recent = {}, {}, {}
    rng = np.random.default_rng(0)
    sf.reset(seed=0)
    reports, moving = 0, 0
    while reports < 40:
        task = sf.envs[0].task_name                     # the task of the episode this step may end
        *_, infos = sf.step(rng.integers(sf.action_space.n, size=sf.num_agents))
        if "curriculum" not in infos:
            continue
        reports += 1
        score = float(np.mean(infos["social"]["shield_steps"].tolist()))
        if task not in fast:
            fast[task] = slow[task] = recent[task] = score
        else:
            fast[task] += 0.5 * (score - fast[task])
            slow[task] += 0.1 * (score - slow[task])
            recent[task] += 0.1 * (score - recent[task])
        lp = {n: abs(fast[n] - slow[n]) for n in fast}
        top = max(lp.values())
        lp = [lp.get(n, top if top > 0 else 1.0) for n in names]
        p = [0.2 * w[i] + 0.8 * lp[i] / sum(lp) for i in range(3)] if sum(lp) > 0 else w
        moving += sum(lp) > 0 and len(fast) == 3
        assert infos["curriculum"] == pytest.approx({**{f"{n}/weight": p[i] for i, n in enumerate(names)},
                                                     **{f"{n}/score": recent[n] for n in recent}}, abs=1e-9)
    assert len(fast) == 3 and moving > 10    # every task scored, and probabilities that progress moved
    sf.close()


def test_a_missing_or_bad_curriculum_stops_training_before_it_starts(tmp_path):
    missing = train(str(tmp_path), "--curriculum=nosuch", "--train_for_env_steps=100")
    assert missing.returncode == 2 and "nosuch.yaml: no such file" in missing.stderr, missing.stderr[-2000:]
    bad = write(tmp_path, "tasks: {a: {overrides: {no_such_value: 3}}}")
    out = train(str(tmp_path), f"--curriculum={bad}", "--train_for_env_steps=100")
    assert out.returncode == 1 and "no_such_value" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.slow
def test_training_on_a_curriculum_logs_task_weights_and_its_policy_sees_the_time(tmp_path, monkeypatch):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    spec = write(tmp_path, TINY_SPEC)
    out = train(str(tmp_path), f"--curriculum={spec}", "--experiment=cur", "--train_for_env_steps=6000")
    assert out.returncode == 0, out.stderr[-3000:]
    exp_dir = os.path.join(str(tmp_path), "train_dir", "cur")
    acc = EventAccumulator(os.path.join(exp_dir, ".summary", "0"), size_guidance={"scalars": 0})
    acc.Reload()
    tags = acc.Tags()["scalars"]
    weights = [t for t in tags if t.startswith("curriculum/") and t.endswith("/weight")]
    assert sorted(weights) == sorted(f"curriculum/{t}/weight" for t in ("plain", "split", "rich", "wide"))
    first = {t: acc.Scalars(t)[0].value for t in weights}
    assert abs(sum(first.values()) - 1) < 1e-3  # one summary's probabilities
    # every summary is a mean of the sampler's probabilities over Sample Factory's window: TINY_SPEC's four tasks
    # weigh 1/4 each and explore 0.2, so each task's p_i = 0.2 / 4 + 0.8 * its share of the progress lies in
    # [0.05, 0.85] (test_the_logged_task_weights_are_the_learning_progress_by_hand checks every report exactly)
    for t in weights:
        assert all(0.05 - 1e-6 <= e.value <= 0.85 + 1e-6 for e in acc.Scalars(t)), t
    summaries = {e.step for e in acc.Scalars(weights[0])}
    for step in summaries:
        assert sum(e.value for t in weights for e in acc.Scalars(t) if e.step == step) == pytest.approx(1, abs=1e-3)

    from metta.curriculum.plot import main as plot, read_curriculum

    series = read_curriculum(exp_dir)
    assert series["weight"]["plain"][0][1] == pytest.approx(first["curriculum/plain/weight"])
    assert plot(["cur", f"--train_dir={tmp_path}/train_dir"]) == 0
    assert open(os.path.join(exp_dir, "curriculum.png"), "rb").read(8) == b"\x89PNG\r\n\x1a\n"

    import metta.sf_integration.policy as policy_module
    from metta.evals.play import play_episode
    from metta.sf_integration.env import SelfFeatures

    seen = []

    class Recording(SelfFeatures):
        def __call__(self, obs, steps_left=None, max_steps=None):
            out = super().__call__(obs, steps_left, max_steps)
            seen.append(out[:, -2:].copy())
            return out

    monkeypatch.setattr(policy_module, "SelfFeatures", Recording)
    policy = policy_module.load_policy("cur", train_dir=os.path.join(str(tmp_path), "train_dir"))
    assert policy.time
    env = policy.make_env(seed=0, max_steps=9)
    play_episode(env, policy, seed=0)
    assert len(seen) == 9
    for t, feats in enumerate(seen):
        assert (feats[:, 0] == np.float32((9 - t) / 9)).all() and (feats[:, 1] == np.float32((9 - t) / 1000)).all()
    with pytest.raises(ValueError, match="max_steps"):
        policy.reset(len(env.possible_agents))
        env.reset(seed=0)
        policy.act(env.reset(seed=0)[0])
