"""What a model is (env, game digest, training progress, evaluation) and the model card that says so."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from metta.bench.training.scalars import scalars
from metta.sf_integration.checkpoints import load_checkpoint
from metta.sf_integration.architectures import architecture
from metta.runtime.files import read_json
from metta.hub.manifest import sha256_file
from metta.hub.naming import GAME, MANIFEST, STATS

TB_PREFIXES = ("reward/", "len/", "social/", "perf/_fps")  # TensorBoard scalars a model card reports
# Figures of the run worth a line on the model card, when config.json has them.
CARD_CONFIG_KEYS = ("algo", "learning_rate", "gamma", "rollout", "recurrence", "batch_size", "num_workers",
                    "num_envs_per_worker", "use_rnn", "rnn_size", "cell_embedding", "encoder_conv_mlp_layers",
                    "encoder_mlp_layers", "train_for_env_steps")


@dataclass
class ModelInfo:
    env: str
    game_sha256: str
    checkpoints: dict  # relative path -> (env_steps, train_step)
    metrics: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    video: str | None = None
    root: str = ""  # the experiment directory the files were read from

    @property
    def gif(self) -> str | None:
        """The evaluation's GIF beside its video (evaluate writes both), which a model card shows."""
        gif = self.video and f"{self.video[:-4]}.gif"
        return gif if gif and os.path.isfile(os.path.join(self.root, gif)) else None

    @property
    def env_steps(self) -> int:
        return max(steps for steps, _ in self.checkpoints.values())

    def lines(self) -> list[str]:
        out = [f"  env        {self.env}", f"  game       {GAME} sha256 {self.game_sha256}"]
        for rel, (steps, updates) in self.checkpoints.items():
            out.append(f"  trained    {steps:,} env steps, {updates:,} policy updates ({rel})")
        if self.metrics:
            shown = ", ".join(f"{k} {v:.4g}" for k, v in self.metrics.items())
            out.append(f"  metrics    per agent and episode: {shown}")
        else:
            out.append("  metrics    none (no evaluation shipped)")
        return out


def evaluation_metrics(path: str) -> dict[str, float]:
    """The social metrics of an evaluation's stats.json (metta.evals.evaluate): means per agent and
    episode."""
    stats = read_json(path, "evaluation stats")
    means = stats.get("mean_per_agent") if isinstance(stats, dict) else None
    return {k: v for k, v in means.items() if isinstance(v, (int, float))} if isinstance(means, dict) else {}


def describe(exp_dir: str, config: dict, checkpoints: dict[str, str], game_path: str) -> ModelInfo:
    """Read what a model is from its files; every checkpoint goes through the weights-only loader."""
    steps = {}
    for rel, path in checkpoints.items():
        ckpt = load_checkpoint(path)
        steps[rel] = (ckpt["env_steps"], int(ckpt.get("train_step", 0)))
    stats = os.path.join(exp_dir, STATS)
    metrics = evaluation_metrics(stats) if os.path.isfile(stats) else {}
    eval_dir = os.path.join(exp_dir, "eval")
    videos = sorted((os.path.getmtime(os.path.join(eval_dir, n)), n) for n in
                    (os.listdir(eval_dir) if os.path.isdir(eval_dir) else []) if n.endswith(".mp4"))
    video = f"eval/{videos[-1][1]}" if videos else None
    return ModelInfo(config["env"], sha256_file(game_path), steps, metrics, config, video, exp_dir)


def training_figures(exp_dir: str) -> dict[str, tuple[int, float]]:
    """The last value (and env step) of the run's episode scalars in TensorBoard: reward, length, social metrics,
    throughput."""
    return {tag: points[-1] for tag, points in scalars(exp_dir, TB_PREFIXES, last_only=True).items()}


def kinship_figures(cfg: dict) -> list[tuple[str, str]]:
    """The run's kinship structure (config.json's env_config), and what a policy of a structure with arms observes
    of it: a policy loads with the same structure, so with the same input."""
    from metta.society.kinship import STRUCTURES

    kin = (cfg.get("env_config") or {}).get("kinship")
    if not isinstance(kin, dict):
        return []
    out = [("kinship", "`" + ", ".join(f"{k}={v}" for k, v in kin.items() if v is not None) + "`")]
    name = kin.get("structure")
    structure = STRUCTURES.get(name) if isinstance(name, str) else None
    if structure is not None and structure.has_arms:
        out.append(("observes", "each agent its own team's share α of the episode (the `team_reward` channel, "
                                "round(255 α)), drawn per team and episode from the arms"))
    return out


def teacher_figures(cfg: dict) -> list[tuple[str, str]]:
    """The scripted teacher a kickstarted run learned from (metta.scripted.teacher); the policy plays without
    it."""
    from metta.scripted.teacher import WEIGHTINGS, teacher_name

    name = teacher_name(cfg)
    if name is None:
        return []
    weighting = cfg.get("teacher_weighting") or WEIGHTINGS[0]  # a run from before the flag weighed uniformly
    return [("teacher", f"`{name}`, λ from `{cfg.get('teacher_coef')}` to 0 by `{cfg.get('teacher_until')}` of the "
                        f"budget, {weighting} imitation (kickstarting, docs/teachers.md; the policy plays without "
                        f"it)")]


def model_card(repo: str, exp: str, info: ModelInfo) -> str:
    cfg = info.config
    figures = [("env", f"`{info.env}`"), ("game", f"`{GAME}`, sha256 `{info.game_sha256}`")]
    figures += [(f"checkpoint `{rel}`", f"{steps:,} env steps, {updates:,} policy updates")
                for rel, (steps, updates) in info.checkpoints.items()]
    # the encoder its checkpoints fit (a config.json from before the option: conv)
    figures.append(("architecture", f"`{architecture(cfg).name}`"))
    figures += [(k, f"`{cfg[k]}`") for k in CARD_CONFIG_KEYS if cfg.get(k) is not None]
    for key in ("override", "level", "bodies"):
        if cfg.get(key):
            figures.append((key, f"`{cfg[key]}`"))
    figures += kinship_figures(cfg)
    figures += teacher_figures(cfg)
    lines = ["---", "library_name: sample-factory", "tags:", "- reinforcement-learning", "- multi-agent",
             "- sample-factory", "- metta", f"- {info.env}", "---", "",
             f"# {repo.rstrip('/').split('/')[-1]}: a Metta policy for `{info.env}`", "",
             f"Sample Factory {cfg.get('algo', 'APPO')} policy from the experiment `{exp}`, trained on the Metta "
             f"gridworld (Griddly rules in `{GAME}`).", "", "## Training", "", "| | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in figures]
    logged = training_figures(info.root)
    if logged:
        lines += ["", "Last values logged to TensorBoard during training:", "", "| scalar | env step | value |",
                  "| --- | --- | --- |"]
        lines += [f"| {tag} | {step:,} | {value:.4g} |" for tag, (step, value) in logged.items()]
    lines += ["", "## Social metrics", ""]
    if info.metrics:
        lines += [f"Means per agent and episode in the latest evaluation (`{STATS}`).", "", "| metric | value |",
                  "| --- | --- |"]
        lines += [f"| {k} | {v:.4g} |" for k, v in info.metrics.items()]
    else:
        lines += ["No evaluation was shipped with this model."]
    if info.gif:
        lines += ["", f"![the latest evaluation]({info.gif})"]
    if info.video:
        lines += ["", f"Evaluation video: `{info.video}`."]
    lines += ["", "## Use it", "", "```bash", f"./devops/load_model.sh {repo} --experiment {exp}",
              f"python -m metta.evals.evaluate --env={info.env} --experiment={exp}",
              f"python -m metta.sf_integration.train --env={info.env} --experiment={exp}   # resumes", "```", "",
              f"Every file but this card is listed with its sha256 in `{MANIFEST}`; `load_model.sh` verifies them "
              f"and reads checkpoints with `torch.load(weights_only=True)`.", ""]
    return "\n".join(lines)
