"""Run the eval suite: every scenario, a number of seeded episodes each, scored and filmed."""
from __future__ import annotations

import os
from typing import Any

from tqdm import tqdm

from metta.evals.play import play_episode
from metta.evals.policies import BUILTIN, ScriptedAgent, load_experiment, policy_for
from metta.evals.scenarios import Scenario
from metta.evals.stats import wilson_interval


def run_suite(policy: str, scenarios: list[Scenario], episodes: int, seed: int = 0, train_dir: str = "train_dir",
              video_dir: str | None = None, fps: float = 8.0, tile_size: int = 24, progress: bool = True,
              checkpoint: str | None = None) -> dict:
    """Score ``policy`` (``random``, ``oracle`` or an experiment in ``train_dir``) on ``scenarios``.

    Episode k of every scenario is seeded ``seed + k``. With ``video_dir``, each scenario's first
    episode is filmed to ``<video_dir>/<scenario>.mp4`` and recorded beside it as a replay,
    ``<scenario>.replay.json.gz`` (metta.viz.replay). ``checkpoint``: one checkpoint file of the experiment instead
    of its latest. Returns the results (see ``metta.evals``).
    """
    from metta.viz.replay import Recorder
    from metta.viz.video import EnvCamera, VideoFiles

    trained = load_experiment(policy, train_dir, checkpoint) if policy not in BUILTIN else None
    results: dict[str, Any] = {"policy": policy, "episodes": episodes, "seed": seed, "scenarios": {}}
    total = sum(episodes * s.max_steps for s in scenarios)
    label = policy if checkpoint is None else f"{policy} @ {os.path.basename(checkpoint)}"
    with tqdm(total=total, desc=f"eval suite: {label}", unit="step", disable=not progress, mininterval=0.5) as bar:
        for sc in scenarios:
            env = sc.make_env(seed)
            values = env.game.named_values()
            actor = trained or policy_for(policy, env, train_dir, seed)
            scripted = {i: ScriptedAgent(env, **kw) for i, kw in sc.opponents.items()}
            wins, steps, video_name, replay_name = [], [], None, None
            try:
                for k in range(episodes):
                    if video_dir is not None and k == 0:
                        os.makedirs(video_dir, exist_ok=True)
                        video_name, replay_name = f"{sc.name}.mp4", f"{sc.name}.replay.json.gz"
                        camera = EnvCamera(env, tile_size)
                        recorder = Recorder(policy)
                        try:
                            with VideoFiles(os.path.join(video_dir, video_name), None, fps) as video:
                                outcome = play_episode(env, actor, seed + k, scripted, record=recorder,
                                                       film=lambda: video.add(camera.frame()), progress=bar)
                        finally:
                            camera.close()
                        recorder.write(os.path.join(video_dir, replay_name))
                    else:
                        outcome = play_episode(env, actor, seed + k, scripted, progress=bar)
                    wins.append(bool(sc.success(outcome, values)))
                    steps.append(outcome.steps)
            finally:
                env.close()
            lo, hi = wilson_interval(sum(wins), len(wins))
            results["scenarios"][sc.name] = {
                "measures": sc.measures, "success": sc.success_text, "episodes": len(wins),
                "successes": sum(wins), "rate": sum(wins) / len(wins), "ci95": [lo, hi],
                "per_episode": wins, "mean_steps": sum(steps) / len(steps), "video": video_name,
                "replay": replay_name,
            }
    return results
