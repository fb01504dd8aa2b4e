"""Every place the project reaches into Sample Factory's internals, in one module, for the one version it was
written against (``SF_VERSION``). Importing it changes nothing: ``apply`` installs what a process of a run needs, and
refuses another version of Sample Factory with a message saying so. Training's main process calls it as it starts
(metta.sf_integration.train), every worker as it builds its env or its model (metta.sf_integration.env,
metta.sf_integration.model: each worker builds one or the other before it does anything else).

- **Checkpoints load as weights only.** Sample Factory stores a numpy scalar (``best_performance``) in its
  checkpoints and loads them with ``torch.load``, whose default since torch 2.6 is ``weights_only=True``: without
  the allowlist (metta.sf_integration.checkpoints.allow_numpy_scalars) every resume fails to read its checkpoint
  and starts from scratch. The project's own loader applies it too, before it reads any checkpoint.
- **The runner** (``patch_runner``): ``config.json`` is written to a temporary name and renamed (Sample Factory
  writes it in place, and a kill mid-write leaves the experiment unresumable); ``--train_for_seconds`` is
  counted (2.1.1 parses it but never counts); the TensorBoard summaries are written once more as training stops
  (2.1.1 writes them only on a timer, so a short run would end with no ``social/`` scalars).
- **Stopping** (``stop_training``): the runner's private stop, which the supervisor calls when a worker dies
  or a signal asks for a checkpoint and a stop.
- **Kickstarting** (``patch_learner``, metta.scripted.teacher): ``Learner._calculate_losses`` is wrapped so
  that, in a run with a teacher, λ_t × the teacher's cross-entropy term (computed on the same minibatch, from the
  student's action logits and the teacher's observation keys, at the learner's ``env_steps``) is added to the policy
  loss it returns; ``Learner._record_summaries`` adds that minibatch's ``teacher/...`` statistics to the train stats
  and keeps ``policy_loss`` APPO's own. ``apply`` installs it in any process that has imported Sample Factory's
  learner (the learner's builds its model before it trains). In the runner (``patch_runner``), the ``teacher/...``
  train stats are written under their own names rather than ``train/``.

A worker also joins its run (metta.sf_integration.supervisor.start_process): process supervision, not a patch.
"""
from __future__ import annotations

import sys
import time
from importlib.metadata import version

from metta.sf_integration.checkpoints import allow_numpy_scalars

SF_VERSION = "2.1.1"


def check_version() -> None:
    installed = version("sample-factory")
    if installed != SF_VERSION:
        raise ImportError(f"metta.sf_integration is written against sample-factory {SF_VERSION} (its internals are "
                          f"patched in metta/sf_integration/patches.py); {installed} is installed: "
                          f"pip install sample-factory=={SF_VERSION}, or port the patches")


def apply() -> None:
    """What a process of a training run needs from this module: the version checked, checkpoints loadable, the
    learner's kickstarting (when this process has the learner). Idempotent."""
    check_version()
    allow_numpy_scalars()
    patch_learner()


def patch_runner(runner, save_cfg) -> None:
    """Fit a Sample Factory runner with the project's config writer ``save_cfg(cfg)``, its two observers and the
    teacher's summaries."""
    from sample_factory.algo.runners.runner import AlgoObserver
    from sample_factory.algo.utils.misc import TRAIN_STATS

    class WallClock(AlgoObserver):
        def on_training_step(self, runner, training_iteration_since_resume: int) -> None:
            runner.total_train_seconds = time.time() - runner.start_time

    class LastSummaries(AlgoObserver):
        def on_stop(self, runner) -> None:
            runner._report_experiment_summaries()

    runner._save_cfg = lambda: save_cfg(runner.cfg)
    runner.register_observer(WallClock())
    runner.register_observer(LastSummaries())
    runner.policy_msg_handlers[TRAIN_STATS].insert(0, _teacher_summaries)  # before the handler writing train/...


def _teacher_summaries(runner, msg: dict, policy_id: int) -> None:
    """The learner's ``teacher/...`` train stats, written as they are named (taken out of those ``train/`` gets)."""
    from sample_factory.algo.utils.misc import TRAIN_STATS

    from metta.scripted.teacher import PREFIX

    stats = msg[TRAIN_STATS]
    for key in [k for k in stats if k.startswith(PREFIX)]:
        runner.writers[policy_id].add_scalar(key, stats.pop(key), runner.env_steps[policy_id])


def patch_learner() -> None:
    """Kickstarting in Sample Factory's learner, if this process has imported it (the module docstring)."""
    module = sys.modules.get("sample_factory.algo.learning.learner")
    if module is None or getattr(module.Learner, "_metta_kickstart", False):
        return
    learner = module.Learner
    calculate, record = learner._calculate_losses, learner._record_summaries

    def _calculate_losses(self, mb, num_invalids: int):
        out = calculate(self, mb, num_invalids)
        if "kickstart" not in self.__dict__:
            from metta.scripted.teacher import Kickstart

            self.kickstart = Kickstart.of(self.cfg)
        if self.kickstart is None:
            return out
        distribution, policy_loss, *rest = out
        loss, self.kickstart_stats = self.kickstart(self.env_steps, mb.normalized_obs, distribution.raw_logits,
                                                    mb.valids)
        return (distribution, policy_loss + loss, *rest)

    def _record_summaries(self, train_loop_vars):
        stats = record(self, train_loop_vars)
        teacher = getattr(self, "kickstart_stats", None)
        if teacher:
            from metta.scripted.teacher import PREFIX

            stats.policy_loss = stats.policy_loss - teacher[f"{PREFIX}loss"]  # APPO's own, as without a teacher
            stats.update(teacher)
        return stats

    learner._calculate_losses, learner._record_summaries = _calculate_losses, _record_summaries
    learner._metta_kickstart = True


def stop_training(runner, failed: bool = False) -> None:
    """Ask the runner to save (unless ``failed``) and stop its components."""
    runner._stop_training(failed=failed)
