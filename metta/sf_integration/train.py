"""Train a Metta policy with Sample Factory's APPO.

    python -m metta.sf_integration.train --env=metta-teams [any Sample Factory flag] [project flags]

Every preset is a Sample Factory env of the same name (metta.sf_integration.env) and the
model's encoder is the project's (metta.sf_integration.model). Every Sample Factory flag
passes through unchanged; the project adds the env's flags (metta.sf_integration.config:
``--game.path``, ``--game.overrides attack.cost=20``, ``--map.width``, ``--kinship.team_reward``...; the run's
env config is ``env_config`` in its ``config.json``).

Without flags a run trains into ``train_dir/<env name>`` (``--experiment`` to change it)
with defaults sized for the machine: 2 CPU cores here, bigger batches and model when
torch sees a GPU. It checkpoints every 3 minutes, writes TensorBoard logs (social metrics
under ``social/``) and, rerun with the same experiment, resumes where it stopped (with ``--teacher``, its schedule
continues from the run's agent-steps: metta.scripted.teacher, docs/teachers.md); a
corrupted checkpoint is moved aside loudly, never silently replaced by a fresh start
(metta.sf_integration.checkpoints). ``--train_for_seconds`` bounds a run's wall time
(Sample Factory 2.1.1 parses that flag but never counts the seconds: metta.sf_integration.patches does).

A run holds its experiment (metta.runtime.run_lock): a second run into it is refused, naming the first's
pid. SIGINT (Ctrl-C), SIGTERM and SIGHUP save a checkpoint and stop; a second signal stops at
once. Its worker processes die with it, however it dies (metta.runtime.lifetime), and a worker that
fails stops the run with its own error: an env's exception, a disk that is full or read-only
(metta.sf_integration.supervisor). Exit status (metta.errors): 0 done, 1 bad data (a game
file, a checkpoint) or a failed run, 2 a command line that cannot run (a bad flag, a held experiment),
128 + signal stopped by that signal.
"""
from __future__ import annotations

import glob
import multiprocessing
import os
import sys
import tempfile

import torch
from sample_factory.algo.utils.context import global_model_factory
from sample_factory.algo.utils.misc import ExperimentStatus
from sample_factory.envs.env_utils import register_env
from sample_factory.utils.attr_dict import AttrDict
from sample_factory.utils.utils import cfg_file, experiment_dir, log

from metta.env.presets import PRESETS, get_preset
from metta.errors import DATA_EXIT, ConfigError, UsageError
from metta.runtime.files import write_json
from metta.runtime.lifetime import Interrupted, StopSignals, run_command
from metta.runtime.quiet import quiet_import
from metta.runtime.run_lock import RunLock
from metta.scripted.teacher import TEACHER_START, add_teacher_args, check_teacher, teacher_name
from metta.sf_integration.architectures import add_model_args, check_resume
from metta.sf_integration.checkpoints import latest_checkpoint, prepare_resume, read_config, trained_steps
from metta.sf_integration.config import (ENV_CONFIG, PATH_FLAGS, absolute_paths, add_metta_args, dump_env_config,
                                         env_config_from_cfg, resumed_env_config)
from metta.sf_integration.env import make_sf_env
from metta.sf_integration.model import make_metta_actor_critic, make_metta_encoder, prior_logits
from metta.sf_integration.patches import patch_runner
from metta.sf_integration.supervisor import Supervisor, fault_reports, quiet_logging_errors, start_process

# Sample Factory's argument parser and runner import the old gym package, whose import prints a banner: they are
# imported where they are used, after this (which a worker runs too: it imports this module as its __main__)
quiet_import("gym")

DEFAULT_ENV = "metta-teams"  # the preset --help describes when no --env is given

# Defaults for 2 CPU cores: two rollout workers, each double-buffering two slots of six 24-agent
# envs, the "flat" model (metta.sf_integration.model: no convolutions, per-channel input
# normalisation). Measured in 150 s runs (docs/performance.md): the flat model is 1.3-1.5x the conv
# model's agent-steps/s, six envs per slot (inference batches of 144 agents) 1.1x four; serial mode,
# synchronous RL, a longer rollout, one worker more or one learner thread less did not pay.
CPU_DEFAULTS = dict(
    device="cpu", batched_sampling=True, num_workers=2, num_envs_per_worker=2, worker_num_splits=2, vector_envs=6,
    learner_threads=2,
    rollout=32, batch_size=1536, num_batches_per_epoch=1, num_epochs=1, learning_rate=3e-4,
    exploration_loss_coeff=0.01, value_bootstrap=True, rnn_size=128, encoder_conv_mlp_layers=[128],
    encoder_mlp_layers=[64], save_every_sec=180, experiment_summaries_interval=20,
)
# With a GPU: as many rollout workers as cores, a wider model and bigger batches (not measured here: no GPU).
GPU_DEFAULTS = dict(
    CPU_DEFAULTS, device="gpu", num_workers=max(2, multiprocessing.cpu_count()),
    batch_size=8192, num_batches_per_epoch=2, rnn_size=512, encoder_conv_mlp_layers=[512], encoder_mlp_layers=[128],
)


def default_params(gpu: bool | None = None) -> dict:
    return dict(GPU_DEFAULTS if (torch.cuda.is_available() if gpu is None else gpu) else CPU_DEFAULTS)


def register_components() -> None:
    """Every preset as a Sample Factory env, and the project's model (spawned workers inherit them)."""
    for name in PRESETS:
        register_env(name, make_sf_env)
    global_model_factory().register_encoder_factory(make_metta_encoder)
    global_model_factory().register_actor_critic_factory(make_metta_actor_critic)


def parse_args(argv: list[str] | None = None, evaluation: bool = False):
    """Sample Factory's parser with the project's flags and machine-sized defaults."""
    from sample_factory.cfg.arguments import parse_full_cfg, parse_sf_args

    argv = sys.argv[1:] if argv is None else list(argv)
    if {"-h", "--help"} & set(argv) and not any(a == "--env" or a.startswith("--env=") for a in argv):
        argv = [f"--env={DEFAULT_ENV}", *argv]  # Sample Factory requires --env before it can print help
    parser, _ = parse_sf_args(argv, evaluation=evaluation)
    add_metta_args(parser)
    add_teacher_args(parser)
    add_model_args(parser)
    parser.set_defaults(**default_params())
    cfg = parse_full_cfg(parser, argv)
    get_preset(cfg.env)
    if "experiment" not in cfg.cli_args:
        cfg.experiment = cfg.env
    absolute_paths(cfg)
    for flag in (*PATH_FLAGS, "curriculum"):  # a file the command line names must be there (its contents: exit 1)
        if getattr(cfg, flag, None) and not os.path.isfile(getattr(cfg, flag)):
            raise UsageError(f"--{flag} {getattr(cfg, flag)}: no such file")
    if cfg.observe_time is None:
        cfg.observe_time = bool(cfg.curriculum)
    try:
        config = env_config_from_cfg(cfg)
    except UsageError:
        raise
    except ConfigError as err:  # a flag's value: the command line's
        raise UsageError(str(err)) from None
    setattr(cfg, ENV_CONFIG, dump_env_config(config))  # a resumed run's: see _locked
    exp_dir = experiment_dir(cfg=cfg, mkdir=False)
    if glob.has_magic(exp_dir):  # Sample Factory's learner globs its checkpoints under it: it would find none
        raise UsageError(f"the experiment directory {exp_dir} holds a glob character (*, ? or [): Sample Factory "
                         f"looks for its checkpoints with a pattern under it and would never find them to resume; "
                         f"choose a --train_dir and --experiment without them")
    return cfg


def check_flags(cfg) -> None:
    check_teacher(cfg)
    if not 0 <= (cfg.action_prior or 0) < 1:
        raise UsageError(f"--action_prior must be in [0, 1), got {cfg.action_prior}")
    if cfg.vector_envs is None or cfg.vector_envs < 1:
        raise UsageError(f"--vector_envs must be an integer >= 1, got {cfg.vector_envs}")
    if cfg.batched_sampling and cfg.num_envs_per_worker > cfg.worker_num_splits:
        raise UsageError(f"--num_envs_per_worker={cfg.num_envs_per_worker} with --worker_num_splits="
                         f"{cfg.worker_num_splits} stacks envs in one batched slot, where Sample Factory drops their "
                         f"episode infos and so the social metrics: raise --vector_envs instead (envs stepped as "
                         f"one), or use --batched_sampling=False")


def check_batches(cfg, agents_per_env: int) -> None:
    """Sample Factory's batched sampling needs the trajectories a worker collects per iteration and those a training
    iteration takes to divide one another; say so, and what would fit, instead of its assertion."""
    if not cfg.batched_sampling:
        return
    per_training = cfg.num_batches_per_epoch * (cfg.batch_size // cfg.rollout)

    def per_worker(vector_envs: int) -> int:
        return agents_per_env * vector_envs * cfg.num_envs_per_worker // cfg.worker_num_splits

    def fit(vector_envs: int) -> bool:
        return not (per_training % per_worker(vector_envs) and per_worker(vector_envs) % per_training)

    if not fit(cfg.vector_envs):
        fits = [k for k in range(1, 4 * cfg.vector_envs + 1) if fit(k)]
        raise UsageError(f"--vector_envs={cfg.vector_envs}: a rollout worker collects {per_worker(cfg.vector_envs)} "
                         f"trajectories an "
                         f"iteration ({cfg.vector_envs} envs of {agents_per_env} agents, --num_envs_per_worker="
                         f"{cfg.num_envs_per_worker}, --worker_num_splits={cfg.worker_num_splits}) and a training "
                         f"iteration takes {per_training} (--batch_size={cfg.batch_size} / --rollout={cfg.rollout}"
                         f" x --num_batches_per_epoch={cfg.num_batches_per_epoch}); Sample Factory needs one to "
                         f"divide the other"
                         + (f": --vector_envs={', '.join(map(str, fits[:6]))} would" if fits else ""))


def check_env(cfg) -> list[str]:
    """Build the env once here: a bad game file, override or option fails now, with a clear message.

    Returns the type of each action of the flat action space (for the policy's prior)."""
    from metta import make_env

    config = env_config_from_cfg(cfg)
    env = make_env(config, name=cfg.env)
    try:
        teacher = teacher_name(cfg)
        if teacher is not None:  # a game whose Metta: section has no oracle has no scripted agents
            from metta.scripted.agents import ScriptedAgents, conduct_named

            try:
                ScriptedAgents(env, conduct_named(teacher))
            except ConfigError as err:
                raise UsageError(f"--teacher={teacher}: {err}") from None
    finally:
        env.close()
    check_batches(cfg, env.num_agents_total)
    if cfg.get("curriculum"):  # every task's extreme values, on this run's env
        from metta.curriculum.tasks import load_curriculum

        load_curriculum(cfg.curriculum, config)
    return [a.name for a in env.engine.actions]


def check_writable(exp_dir: str) -> None:
    """An existing experiment must be writable before anything starts (a read-only mount, a full disk)."""
    if not os.path.isdir(exp_dir):
        return
    try:
        with tempfile.TemporaryFile(dir=exp_dir) as fh:
            fh.write(b"\0" * 4096)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as err:
        raise ConfigError(f"{exp_dir}: cannot write in the experiment ({err.strerror}); a run writes its "
                          f"checkpoints, logs and TensorBoard files there. Nothing was changed") from None


class RunFailed(Exception):
    """The run failed (a worker, the disk): the message says which and why."""


def train(cfg, stops: StopSignals | None = None) -> int:
    """Run ``cfg`` to its end; 0 when done, 128 + signal when a signal stopped it (after saving).

    Raises ConfigError for bad input or a held experiment, RunFailed when the run failed."""
    start_process()
    exp_dir = experiment_dir(cfg, mkdir=False)
    try:
        return _locked(cfg, exp_dir, stops or StopSignals())
    except OSError as err:  # the train_dir became unwritable (full, read-only) outside a worker
        raise RunFailed(f"{err.filename or exp_dir}: {err.strerror or err}; the checkpoints already written are "
                        f"left as they were") from None


def _locked(cfg, exp_dir: str, stops: StopSignals) -> int:
    from sample_factory.cfg.arguments import load_from_checkpoint

    with RunLock(exp_dir, warn=log.warning):
        check_writable(exp_dir)
        if cfg.restart_behavior == "resume":
            kind = {"latest": "checkpoint", "best": "best"}[cfg.load_checkpoint_kind]  # Sample Factory's prefixes
            for policy, path in prepare_resume(exp_dir, kind, warn=log.warning).items():
                if path:
                    log.info("Resuming %s policy %d from %s", exp_dir, policy, path)
        # the env as Sample Factory will build it: a resumed run's config.json under this command line
        resumed = cfg.restart_behavior == "resume" and os.path.isfile(os.path.join(exp_dir, "config.json"))
        if resumed:  # the checkpoints hold the saved architecture's weights (conv for a config.json without one)
            saved = read_config(exp_dir)
            cfg.architecture = check_resume(cfg.cli_args, saved)
            # the saved env, changed by this command line's env flags; as a command-line value it wins over the
            # saved config.json's when Sample Factory loads that (cfg.arguments.load_from_checkpoint)
            cfg.cli_args[ENV_CONFIG] = dump_env_config(resumed_env_config(saved, cfg))
            setattr(cfg, ENV_CONFIG, cfg.cli_args[ENV_CONFIG])
            # the teacher's envs count the run's agent-steps from where it stopped (metta.scripted.teacher)
            cfg.cli_args[TEACHER_START] = cfg.teacher_start_steps = trained_steps(exp_dir)
        env_cfg = AttrDict(load_from_checkpoint(cfg) if resumed else vars(cfg))
        check_flags(env_cfg)
        action_types = check_env(env_cfg)  # before Sample Factory writes anything
        cfg.action_prior_logits = prior_logits(action_types, env_cfg.action_prior)
        cfg.action_types = action_types  # each action's type: the teacher's agreement is reported per type
        with fault_reports() as faults:  # where the workers, and this process, report the error that ends them
            return _run(cfg, exp_dir, faults, stops)


def _run(cfg, exp_dir: str, faults: str, stops: StopSignals) -> int:
    from sample_factory.cfg.arguments import cfg_dict
    from sample_factory.train import make_runner

    cfg, runner = make_runner(cfg)
    # Sample Factory writes config.json in place: a kill mid-write would leave the experiment unresumable
    patch_runner(runner, lambda cfg: write_json(cfg_file(cfg), cfg_dict(cfg)))
    status = runner.init()
    if status != ExperimentStatus.SUCCESS:
        return status
    supervisor = Supervisor(runner, exp_dir, faults)
    try:
        with stops.deferred(supervisor.request_stop):
            status = runner.run()
        supervisor.collect()
        supervisor.collect_main()
    finally:
        supervisor.close()
    if supervisor.failures:
        raise RunFailed("the run stopped: " + "; ".join(supervisor.failures))
    if stops.first is not None:
        sig = Interrupted(stops.first)
        log.warning("Stopped by %s; latest checkpoint: %s", sig.name, latest_checkpoint(exp_dir) or "none yet")
        return sig.exit_code
    return status


def main(argv: list[str] | None = None) -> int:
    quiet_logging_errors()
    start_process()  # Sample Factory patched (metta.sf_integration.patches) before anything of it runs
    register_components()
    return run_command(lambda stops: train(parse_args(argv), stops), {RunFailed: DATA_EXIT})


if __name__ == "__main__":
    sys.exit(main())
