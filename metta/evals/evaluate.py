"""Watch a policy play: episodes rendered to video, with the social metrics of each.

    python -m metta.evals.evaluate --env=metta-teams --experiment=NAME
    python -m metta.evals.evaluate --env=metta-teams --policy=random

loads the experiment's latest checkpoint (or a built-in policy: random, oracle), plays
``--episodes`` episodes (seeds ``--seed``, ``--seed`` + 1, ...) and writes, under
``train_dir/NAME/eval/`` (NAME is the experiment, or the policy's name):

- ``<env>.mp4``: every episode back to back, rendered by Griddly's BLOCK_2D observer with the
  project's shaders (metta.viz.render); H.264 where available, else VP9;
- ``<env>.gif``: the same at half size;
- ``<env>.seed<S>.replay.json.gz``: a replay of each episode (seed S): every step's objects, actions,
  rewards, kinship, bonds and the episode's metrics (metta.viz.replay; ``python -m metta.viz.replay FILE``
  writes a page to watch it in a browser);
- ``stats.json``: each episode's social metrics per agent (the env's own ``infos[a]["episode"]``),
  their means, the replay of each episode, and what the video holds (codec, frames, size).

``--paired`` plays every seed twice, the second time with the teams' arms swapped (a kinship structure with arms,
``mixed_teams``: the same level, teams and draws, each team at the other share; its episode is marked
``"swapped": true``; only the first play is filmed and recorded). ``--probes`` probes the policy's attacks at every
state with an agent in reach (metta.evals.probes) and keeps each episode's tallies per arm (``probes``:
metta.evals.probes.tally_probes).

Each frame shows the step and each kinship group's hearts in a panel beside the map, with the
colours' legend (metta.viz.video).
"""
from __future__ import annotations

import argparse
import os
import sys
from contextlib import nullcontext

from tqdm import tqdm

from metta.errors import ConfigError, UsageError
from metta.runtime.lifetime import run_command


def evaluate(env_name: str | None, experiment: str | None = None, policy: str | None = None,
             train_dir: str = "train_dir", episodes: int = 1, max_steps: int | None = None, fps: float = 10.0,
             seed: int = 0, tile_size: int = 16, gif: bool = True, progress: bool = True,
             film: int | None = None, replays: int | None = None, paired: bool = False, probes: bool = False) -> dict:
    """Play and film; return what was written to ``stats.json`` (see the module docstring).

    ``film``: how many of the episodes (the first ones) go into the video; default all. Frames are drawn on the
    CPU here (Vulkan through lavapipe, most of an evaluation's time), so ``film=0`` plays without a video.
    ``replays``: how many of the episodes (the first ones) are recorded as replays; default all."""
    from metta import make_env
    from metta.evals.contract import Policy
    from metta.evals.play import play_episode, summarize
    from metta.evals.policies import BUILTIN, load_experiment, policy_for
    from metta.runtime.files import write_json
    from metta.viz.replay import Recorder
    from metta.viz.video import EnvCamera, VideoFiles

    if policy is None and experiment is None:
        raise UsageError(f"give --experiment=NAME (a directory in {train_dir}) or --policy (one of "
                         f"{', '.join(BUILTIN)})")
    if policy is not None and policy not in BUILTIN:
        raise UsageError(f"unknown --policy {policy!r}: built-in policies are {', '.join(BUILTIN)}; "
                         f"a trained one is given with --experiment")
    for name, value, low in (("episodes", episodes, 1), ("max_steps", max_steps, 1)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < low):
            raise ConfigError(f"--{name} must be an integer >= {low}, got {value!r}")
    if not fps > 0:
        raise ConfigError(f"--fps must be positive, got {fps!r}")
    if policy is None:
        assert experiment is not None  # one of the two is given (checked above)
        trained, name = load_experiment(experiment, train_dir), experiment
    else:
        trained, name = None, experiment or policy
    # the experiment's own env, unless another preset is asked for (then that preset, as it is)
    own = trained is not None and env_name in (None, trained.env_name)
    env_name = env_name or (trained.env_name if trained is not None else "metta-teams")
    env = make_env(trained.env_config if trained is not None and own else env_name, seed=seed, max_steps=max_steps,
                   name=env_name)
    actor: Policy
    if trained is not None:
        actor = trained
    else:
        assert policy is not None  # no experiment was loaded: a built-in policy was given
        actor = policy_for(policy, env, train_dir, seed)
    if paired and not env.society.has_arms:
        raise UsageError(f"--paired swaps the teams' arms: {env_name}'s kinship structure "
                         f"{env.society.structure!r} has none (a structure with arms: mixed_teams)")
    if probes:
        from metta.evals.probes import Prober, probeable, tally_probes

        if not probeable(actor):
            raise UsageError(f"--probes: the policy {experiment or policy!r} gives no action probabilities to probe")
    out_dir = os.path.join(train_dir, name, "eval")
    os.makedirs(out_dir, exist_ok=True)
    mp4, gif_path = os.path.join(out_dir, f"{env_name}.mp4"), os.path.join(out_dir, f"{env_name}.gif")
    filmed = episodes if film is None else max(0, min(int(film), episodes))
    recorded = episodes if replays is None else max(0, min(int(replays), episodes))
    replay_names = [f"{env_name}.seed{seed + k}.replay.json.gz" if k < recorded else None for k in range(episodes)]
    camera = EnvCamera(env, tile_size) if filmed else None
    plays = [False, True] if paired else [False]
    outcomes, played = [], []
    try:
        with (VideoFiles(mp4, gif_path if gif else None, fps) if filmed else nullcontext()) as video, \
                tqdm(total=episodes * len(plays) * env.max_steps, desc=f"{name} on {env_name}", unit="step",
                     disable=not progress, mininterval=0.5) as bar:

            def shoot_frame() -> None:
                assert video is not None and camera is not None  # both are made when filming
                video.add(camera.frame())

            for k in range(episodes):
                for swapped in plays:
                    first = not swapped
                    shoot = shoot_frame if k < filmed and first else None
                    replay = replay_names[k] if first else None
                    recorder = Recorder(name) if replay else None
                    prober = Prober(env, actor, seed + k) if probes else None
                    outcomes.append(play_episode(env, actor, seed + k, film=shoot, progress=bar, record=recorder,
                                                 watch=prober.watch if prober else None,
                                                 options={"swap_arms": True} if swapped else None))
                    played.append((swapped, replay, tally_probes(prober.records) if prober else None))
                    if recorder is not None and replay:
                        recorder.write(os.path.join(out_dir, replay))
    finally:
        if camera is not None:
            camera.close()
        env.close()
    film_stats = None
    if filmed:
        assert video is not None and video.size is not None  # every episode filmed its first frame at least
        film_stats = {"mp4": os.path.basename(mp4), "gif": os.path.basename(gif_path) if gif else None,
                      "episodes": filmed, "codec": video.codec, "frames": video.frames, "fps": fps,
                      "size": list(video.size)}
    stats = {
        "env": env_name, "experiment": experiment, "policy": policy or "trained", "seed": seed,
        "max_steps": env.max_steps,
        "paired": paired, "probes": probes,
        "episodes": [{"seed": o.seed, "steps": o.steps, "replay": r,
                      **({"swapped": swapped} if paired else {}), **({"probes": tally} if probes else {}),
                      "agents": dict(zip(env.possible_agents, o.metrics))}
                     for o, (swapped, r, tally) in zip(outcomes, played)],
        "mean_per_agent": summarize([o.metrics for o in outcomes]),
        "video": film_stats,
    }
    write_json(os.path.join(out_dir, "stats.json"), stats)
    return stats


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m metta.evals.evaluate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--env", default=None, help="preset to play (default: the experiment's, else metta-teams)")
    ap.add_argument("--experiment", default=None, help="a trained experiment in --train_dir")
    ap.add_argument("--policy", default=None, help="a built-in policy instead: random or oracle")
    ap.add_argument("--train_dir", default="train_dir")
    ap.add_argument("--episodes", type=int, default=1)
    ap.add_argument("--max_steps", type=int, default=None, help="episode length (default: the env's)")
    ap.add_argument("--fps", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tile_size", type=int, default=16, help="pixels per cell")
    ap.add_argument("--no_gif", action="store_true", help="write only the mp4")
    ap.add_argument("--film", type=int, default=None, help="film only the first K episodes (0: no video)")
    ap.add_argument("--replays", type=int, default=None, help="record only the first K episodes as replays")
    ap.add_argument("--paired", action="store_true",
                    help="play every seed twice, the second time with the teams' arms swapped (mixed_teams)")
    ap.add_argument("--probes", action="store_true",
                    help="probe the policy's attacks at every state with an agent in reach (metta.evals.probes)")
    args = ap.parse_args(argv)
    # Ctrl-C or a stop signal ends it with "stopped by SIGINT", not a traceback; a bad input is "error: ..."
    return run_command(lambda stops: _run(args))


def _run(args) -> int:
    stats = evaluate(args.env, args.experiment, args.policy, args.train_dir, args.episodes, args.max_steps,
                     args.fps, args.seed, args.tile_size, gif=not args.no_gif, film=args.film, replays=args.replays,
                     paired=args.paired, probes=args.probes)
    out = os.path.join(args.train_dir, args.experiment or args.policy, "eval")
    m = stats["mean_per_agent"]
    print(f"{stats['env']}: {len(stats['episodes'])} episode(s) of {stats['policy']}; per agent: "
          f"hearts {m.get('hearts', 0):.2f}, diamonds {m.get('diamonds_harvested', 0):.2f}, "
          f"reward {m.get('reward', 0):.2f}")
    v = stats["video"]
    written = [f"{os.path.join(out, v['mp4'])} ({v['codec']}, {v['frames']} frames)", v["gif"] or "no GIF"] if v else []
    written += [os.path.join(out, e["replay"]) for e in stats["episodes"] if e["replay"]] + ["stats.json"]
    print(f"wrote {', '.join(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
