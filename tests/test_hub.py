"""Sharing models through the Hub: the real huggingface_hub client against a Hub-compatible server on loopback.

Experiments are built in Sample Factory's layout with real tensors (a model and its Adam state after a step),
Sample Factory's own config.json and an evaluation written by metta.evals.evaluate (video and
stats.json); what comes back is checked against those files byte for byte, and through Sample Factory's own
config and checkpoint loaders.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess

import numpy as np
import pytest
import torch

from conftest import GAME, ROOT, config_error
from hub_server import HubServer
from metta import hub

TOKEN = "hf_metta_loopback_token"
ENV = "metta-teams"


# -- experiments in Sample Factory's layout -------------------------------------------------------------------

@pytest.fixture(scope="module")
def sf_config() -> dict:
    """Sample Factory's own config.json for a run, as its runner writes it (cfg_dict of the parsed flags)."""
    from sample_factory.cfg.arguments import cfg_dict, parse_full_cfg, parse_sf_args

    argv = [f"--env={ENV}", "--experiment=run", "--train_dir=train_dir"]
    parser, _ = parse_sf_args(argv)
    return json.loads(json.dumps(cfg_dict(parse_full_cfg(parser, argv))))


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory) -> str:
    """An evaluation as metta.evals.evaluate writes it (a short random-policy episode): its eval dir."""
    from metta.evals.evaluate import evaluate

    train_dir = tmp_path_factory.mktemp("evaluation")
    evaluate(ENV, policy="random", train_dir=str(train_dir), max_steps=5, tile_size=8, progress=False)
    return str(train_dir / "random" / "eval")


class Payload:
    """Unpickling this runs ``os.mkdir(path)``: a checkpoint that would execute code."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return os.mkdir, (self.path,)


def small_model(seed: int):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Conv2d(21, 8, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(8 * 9 * 9, 22))
    opt = torch.optim.Adam(model.parameters(), lr=3e-4)
    model(torch.rand(4, 21, 11, 11)).logsumexp(-1).mean().backward()
    opt.step()
    return model, opt


def make_experiment(train_dir, name: str, env_steps: int, sf_config: dict, evaluation: str | None = None,
                    payload=None, seed: int = 0, game: str | None = None, game_flag: str = "game.path") -> str:
    """``train_dir/name`` as Sample Factory leaves it: config.json (``game`` under the flag ``game_flag``: an older
    config.json's is ``game``), checkpoint_p0/, and an evaluation."""
    exp_dir = os.path.join(train_dir, name)
    ckpt_dir = os.path.join(exp_dir, "checkpoint_p0")
    os.makedirs(ckpt_dir, exist_ok=True)
    for old in os.listdir(ckpt_dir):  # keep_checkpoints: the older one goes as a new one is written
        os.remove(os.path.join(ckpt_dir, old))
    model, opt = small_model(seed)
    train_step = env_steps // 512
    # Sample Factory keeps best_performance as the numpy float of its best reward once it has saved a best policy
    ckpt = {"train_step": train_step, "env_steps": env_steps, "best_performance": np.float32(0.25),
            "model": model.state_dict(), "optimizer": opt.state_dict(), "curr_lr": 3e-4}
    if payload is not None:
        ckpt["extra"] = payload
    torch.save(ckpt, os.path.join(ckpt_dir, f"checkpoint_{train_step:09d}_{env_steps}.pth"))
    cfg = dict(sf_config, experiment=name, train_dir=str(train_dir), **{game_flag: game},
               cli_args=dict(sf_config["cli_args"], experiment=name, train_dir=str(train_dir)))
    with open(os.path.join(exp_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    if evaluation is not None:
        shutil.copytree(evaluation, os.path.join(exp_dir, "eval"))
    from torch.utils.tensorboard import SummaryWriter  # what Sample Factory logs to, per policy

    with SummaryWriter(os.path.join(exp_dir, ".summary", "0")) as tb:
        for step in (env_steps // 2, env_steps):
            tb.add_scalar("reward/reward", step / 1e4, step)
            tb.add_scalar("social/hearts", step / 1e5, step)
            tb.add_scalar("train/loss", 0.5, step)
    return exp_dir


def files_of(root: str) -> dict[str, str]:
    """sha256 of every file under root, by relative path."""
    out = {}
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = hashlib.sha256(f.read()).hexdigest()
    return out


# -- the loopback Hub -----------------------------------------------------------------------------------------

@pytest.fixture
def server(tmp_path, monkeypatch):
    """A Hub on loopback; this process sees it as HF_ENDPOINT/HF_HOME/HF_TOKEN set before import would make it."""
    from huggingface_hub import constants, file_download

    with HubServer(token=TOKEN) as srv:
        template = srv.url + "/{repo_id}/resolve/{revision}/{filename}"
        monkeypatch.setattr(constants, "ENDPOINT", srv.url)
        monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", template)
        monkeypatch.setattr(file_download, "HUGGINGFACE_CO_URL_TEMPLATE", template)
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf_home" / "hub"))
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        srv.env = dict(os.environ, HF_ENDPOINT=srv.url, HF_HOME=str(tmp_path / "hf_home"), HF_TOKEN=TOKEN,
                       HF_HUB_OFFLINE="0", HF_HUB_DISABLE_TELEMETRY="1")
        yield srv


def upload_dir(repo_id: str, folder) -> str:
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(repo_id, exist_ok=True)
    return api.upload_folder(repo_id=repo_id, folder_path=str(folder), commit_message="by hand").oid


def manifest_for(folder) -> None:
    files = {rel.replace(os.sep, "/"): {"sha256": digest, "size": os.path.getsize(os.path.join(folder, rel))}
             for rel, digest in files_of(str(folder)).items()}
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump({"format": hub.MANIFEST_FORMAT, "files": files}, f)


def quiet(*_):
    pass


def run(script: str, *args, env: dict, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([os.path.join(ROOT, "devops", script), *map(str, args)], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


# -- tests ----------------------------------------------------------------------------------------------------

def test_upload_then_download_round_trip_is_byte_identical(server, tmp_path, sf_config, evaluation):
    src = make_experiment(tmp_path / "alice", "teams-run", 123_456, sf_config, evaluation)
    commit = hub.save("teams-run", "lab/teams-run", str(tmp_path / "alice"), out=quiet)

    # what the Hub holds at that commit, fetched by huggingface_hub itself, is the run's files byte for byte
    from huggingface_hub import snapshot_download

    snap = snapshot_download("lab/teams-run", revision=commit, cache_dir=str(tmp_path / "other_cache"))
    remote, local = files_of(snap), files_of(src)
    shipped = {"config.json", "checkpoint_p0/checkpoint_000000241_123456.pth", f"eval/{ENV}.mp4", f"eval/{ENV}.gif",
               "eval/stats.json"}
    assert {k: remote[k] for k in shipped} == {k: local[k] for k in shipped}
    assert remote["game.yaml"] == files_of(os.path.dirname(GAME))[os.path.basename(GAME)]
    manifest = json.load(open(os.path.join(snap, "manifest.json")))
    assert manifest["files"].keys() == shipped | {"game.yaml"}
    assert all(manifest["files"][k]["sha256"] == remote[k] for k in manifest["files"])
    card = open(os.path.join(snap, "README.md")).read()
    assert ENV in card and remote["game.yaml"] in card and "123,456 env steps" in card
    assert "| reward/reward | 123,456 | 12.35 |" in card and "| social/hearts | 123,456 | 1.235 |" in card
    assert "train/loss" not in card and f"](eval/{ENV}.gif)" in card
    means = json.load(open(os.path.join(evaluation, "stats.json")))["mean_per_agent"]
    assert {"hearts", "attacks_on_kin", "gifts_to_strangers", "shield_steps"} <= means.keys()
    for metric, value in means.items():
        if value is None:  # undefined in every episode (e.g. equality when nobody earned anything): not on the card
            assert f"| {metric} |" not in card
        else:
            assert f"| {metric} | {value:.4g} |" in card
    assert ("PUT", f"/_lfs/{remote['checkpoint_p0/checkpoint_000000241_123456.pth']}") in server.requests  # LFS

    # and what load installs is the same bytes, with config.json pointing at its new home
    lines = []
    dest = hub.load("lab/teams-run", str(tmp_path / "bob"), out=lines.append)
    installed = files_of(dest)
    assert {k: installed[k] for k in shipped - {"config.json"}} == {k: local[k] for k in shipped - {"config.json"}}
    assert installed["game.yaml"] == remote["game.yaml"]
    cfg, orig = json.load(open(os.path.join(dest, "config.json"))), json.load(open(os.path.join(src, "config.json")))
    changed = {k for k in cfg if cfg[k] != orig[k]}
    assert changed == {"train_dir", "cli_args"}  # same experiment name; same game as this checkout
    assert cfg["train_dir"] == str(tmp_path / "bob") and cfg["experiment"] == "teams-run"
    assert json.load(open(os.path.join(dest, "source.json")))["commit"] == commit
    text = "\n".join(lines)
    assert dest in text and commit in text and ENV in text and remote["game.yaml"] in text
    assert "123,456 env steps" in text and "hearts" in text


def test_installed_model_is_what_sample_factory_resumes_and_evaluates(server, tmp_path, sf_config):
    from sample_factory.algo.learning.learner import Learner
    from sample_factory.cfg.arguments import load_from_checkpoint
    from sample_factory.utils.attr_dict import AttrDict

    make_experiment(tmp_path / "alice", "teams-run", 5_000, sf_config, seed=3)
    hub.save("teams-run", "lab/teams-run", str(tmp_path / "alice"), out=quiet)
    train_dir = str(tmp_path / "bob")
    dest = hub.load("lab/teams-run", train_dir, experiment="baseline", out=quiet)

    # Sample Factory's own resume path: config.json from the experiment, then its newest checkpoint
    cfg = load_from_checkpoint(AttrDict(train_dir=train_dir, experiment="baseline", cli_args={}))
    assert (cfg.train_dir, cfg.experiment, cfg.env) == (train_dir, "baseline", ENV)
    ckpt = Learner.load_checkpoint(Learner.get_checkpoints(Learner.checkpoint_dir(cfg, 0)), "cpu")
    assert ckpt["env_steps"] == 5_000 and ckpt["train_step"] == 5_000 // 512
    trained, _ = small_model(3)
    fresh, _ = small_model(99)
    fresh.load_state_dict(ckpt["model"])
    assert all(torch.equal(a, b) for a, b in zip(fresh.state_dict().values(), trained.state_dict().values()))
    torch.optim.Adam(fresh.parameters(), lr=3e-4).load_state_dict(ckpt["optimizer"])
    assert os.path.dirname(Learner.checkpoint_dir(cfg, 0)) == dest


def test_a_custom_game_travels_with_the_model(server, tmp_path, sf_config):
    custom = tmp_path / "my_rules.yaml"
    custom.write_bytes(open(GAME, "rb").read() + b"\n# a variant of the rules\n")
    make_experiment(tmp_path / "alice", "run", 1_000, sf_config, game=str(custom))
    hub.save("run", "lab/run", str(tmp_path / "alice"), out=quiet)
    custom.unlink()  # the downloader does not have the uploader's file
    dest = hub.load("lab/run", str(tmp_path / "bob"), out=quiet)
    cfg = json.load(open(os.path.join(dest, "config.json")))
    assert cfg["game.path"] == os.path.join(dest, "game.yaml")
    assert open(cfg["game.path"], "rb").read().endswith(b"# a variant of the rules\n")


def test_an_overlay_game_travels_with_its_bases_merged_in(server, tmp_path, sf_config):
    from metta.griddly_ext.gdy import load_gdy, parse_gdy

    overlay = tmp_path / "rules" / "mine.yaml"
    overlay.parent.mkdir()
    overlay.write_text(f"extends: {GAME}\nEnvironment:\n  Name: Mine\n")
    make_experiment(tmp_path / "alice", "run", 1_000, sf_config, game=str(overlay), game_flag="game")  # older name
    hub.save("run", "lab/run", str(tmp_path / "alice"), out=quiet)
    resolved = load_gdy(str(overlay)).doc
    overlay.unlink()  # the downloader has neither the overlay nor, in general, its base
    dest = hub.load("lab/run", str(tmp_path / "bob"), out=quiet)
    shipped = json.load(open(os.path.join(dest, "config.json")))["game"]
    assert shipped == os.path.join(dest, "game.yaml")
    text = open(shipped).read()
    assert "extends" not in parse_gdy(text).doc and parse_gdy(text).doc == resolved
    assert resolved["Environment"]["Name"] == "Mine"
    assert not [n for n in os.listdir(dest) if "standalone" in n]  # the staging copy did not ship


def test_revision_picks_the_version(server, tmp_path, sf_config):
    from huggingface_hub import HfApi

    alice = tmp_path / "alice"
    make_experiment(alice, "run", 1_000, sf_config, seed=1)
    first = hub.save("run", "lab/run", str(alice), out=quiet)
    HfApi().create_tag("lab/run", tag="v1", revision=first)
    make_experiment(alice, "run", 2_000, sf_config, seed=2)  # trained further: a new checkpoint replaces the old
    second = hub.save("run", "lab/run", str(alice), out=quiet)
    assert first != second
    assert [f for f in HfApi().list_repo_files("lab/run") if f.endswith(".pth")] == \
        ["checkpoint_p0/checkpoint_000000003_2000.pth"]

    from metta.sf_integration.checkpoints import load_checkpoint

    def steps(dest):
        (rel,) = [r for r in files_of(dest) if r.endswith(".pth")]
        return load_checkpoint(os.path.join(dest, rel))["env_steps"], rel

    bob = str(tmp_path / "bob")
    assert steps(hub.load("lab/run", bob, experiment="head", out=quiet)) == \
        (2_000, os.path.join("checkpoint_p0", "checkpoint_000000003_2000.pth"))
    for rev in ("v1", first):
        assert steps(hub.load("lab/run", bob, experiment=f"at-{rev}", revision=rev, out=quiet)) == \
            (1_000, os.path.join("checkpoint_p0", "checkpoint_000000001_1000.pth"))
    assert steps(hub.load("lab/run", bob, experiment="at-main", revision="main", out=quiet))[0] == 2_000
    with config_error("lab/run", server.url, "no revision 'v2'"):
        hub.load("lab/run", bob, experiment="at-v2", revision="v2", out=quiet)
    assert sorted(os.listdir(bob)) == sorted(["at-main", f"at-{first}", "at-v1", "head"])


def test_digest_mismatch_is_refused_and_leaves_nothing_behind(server, tmp_path, sf_config):
    from huggingface_hub import HfApi, constants

    make_experiment(tmp_path / "alice", "run", 1_000, sf_config, seed=1)
    hub.save("run", "lab/run", str(tmp_path / "alice"), out=quiet)
    # someone pushes a different checkpoint under the same name without updating the manifest
    other = make_experiment(tmp_path / "mallory", "run", 1_000, sf_config, seed=9)
    rel = "checkpoint_p0/checkpoint_000000001_1000.pth"
    HfApi().upload_file(path_or_fileobj=os.path.join(other, rel), path_in_repo=rel, repo_id="lab/run")

    bob = tmp_path / "bob"
    with config_error("digest mismatch", rel, "refused"):
        hub.load("lab/run", str(bob), out=quiet)
    assert os.listdir(bob) == []  # no experiment, no staging directory
    cached = [os.path.relpath(os.path.join(d, n), constants.HF_HUB_CACHE)
              for d, _, names in os.walk(constants.HF_HUB_CACHE) for n in names]
    assert not any(c.endswith(rel) for c in cached), cached  # the bad file is not kept for a next time
    assert files_of(other)[rel] not in files_of(constants.HF_HUB_CACHE).values()

    # over an existing experiment, even with --force, the user's files stay as they were
    mine = make_experiment(bob, "run", 7_000, sf_config, seed=4)
    before = files_of(mine)
    with config_error("digest mismatch"):
        hub.load("lab/run", str(bob), force=True, out=quiet)
    assert files_of(mine) == before and os.listdir(bob) == ["run"]


def test_a_checkpoint_that_would_run_code_is_refused(server, tmp_path, sf_config):
    marker = tmp_path / "code-ran"
    evil = make_experiment(tmp_path / "mallory", "run", 1_000, sf_config, payload=Payload(marker))

    # save reads checkpoints the same way: it will not share one
    with config_error("refused", "would run code", "mkdir"):
        hub.save("run", "lab/evil", str(tmp_path / "mallory"), out=quiet)
    assert "lab/evil" not in server.repos and not marker.exists()

    # a repository built by hand, manifest and all: the digests match, the content is refused
    folder = tmp_path / "evil-repo"
    os.makedirs(folder / "checkpoint_p0")
    rel = "checkpoint_p0/checkpoint_000000001_1000.pth"
    for name in ("config.json", rel):
        with open(os.path.join(evil, name), "rb") as fin, open(folder / name, "wb") as fout:
            fout.write(fin.read())
    with open(GAME, "rb") as fin, open(folder / "game.yaml", "wb") as fout:
        fout.write(fin.read())
    manifest_for(folder)
    upload_dir("lab/evil", folder)
    bob = tmp_path / "bob"
    with config_error("refused", "would run code", rel):
        hub.load("lab/evil", str(bob), out=quiet)
    assert not marker.exists() and os.listdir(bob) == []

    # the payload is live: an ordinary (unsafe) load of the same file runs it
    torch.load(folder / rel, weights_only=False)
    assert marker.is_dir()


@pytest.mark.parametrize("name", ["../escape.txt", "/tmp/escape.txt", "checkpoint_p0/../../escape.txt",
                                  "eval\\..\\..\\escape.txt", "./config.json", "C:/escape.txt", "manifest.json"])
def test_remote_file_names_are_checked(name):
    with config_error("refused file name", repr(name)):
        hub.check_file_name(name, "lab/run")


def test_a_manifest_naming_a_path_outside_is_refused_before_download(server, tmp_path):
    folder = tmp_path / "repo"
    os.makedirs(folder)
    (folder / "config.json").write_text("{}")
    manifest_for(folder)
    m = json.load(open(folder / "manifest.json"))
    m["files"]["../../escape.txt"] = m["files"]["config.json"]
    json.dump(m, open(folder / "manifest.json", "w"))
    upload_dir("lab/odd", folder)
    n_requests = len(server.requests)
    with config_error("refused file name", "'../../escape.txt'"):
        hub.load("lab/odd", str(tmp_path / "td" / "train_dir"), out=quiet)
    assert not (tmp_path / "td" / "escape.txt").exists() and os.listdir(tmp_path / "td" / "train_dir") == []
    assert not [p for _, p in server.requests[n_requests:] if p.endswith("config.json")]  # nothing else fetched


def test_an_existing_experiment_is_replaced_only_with_force(server, tmp_path, sf_config):
    make_experiment(tmp_path / "alice", "run", 1_000, sf_config, seed=1)
    hub.save("run", "lab/run", str(tmp_path / "alice"), out=quiet)
    mine = make_experiment(tmp_path / "bob", "run", 9_000, sf_config, seed=5)
    before = files_of(mine)
    with config_error(mine, "exists", "--force"):
        hub.load("lab/run", str(tmp_path / "bob"), out=quiet)
    assert files_of(mine) == before
    hub.load("lab/run", str(tmp_path / "bob"), force=True, out=quiet)
    assert "checkpoint_p0/checkpoint_000000001_1000.pth" in {k.replace(os.sep, "/") for k in files_of(mine)}
    assert os.listdir(tmp_path / "bob") == ["run"]


def test_bare_names_and_local_directories(server, tmp_path, sf_config, monkeypatch):
    monkeypatch.delenv(hub.ORG_ENV, raising=False)
    assert hub.repo_id_for("baseline") == f"{hub.DEFAULT_ORG}/baseline"
    monkeypatch.setenv(hub.ORG_ENV, "my-lab")
    assert hub.repo_id_for("baseline") == "my-lab/baseline" and hub.repo_id_for("x/y") == "x/y"
    with config_error("not a Hub model repository id"):
        hub.repo_id_for("a/b/c")

    src = make_experiment(tmp_path / "alice", "run", 3_000, sf_config, seed=1)
    hub.save("run", "baseline", str(tmp_path / "alice"), out=quiet)
    assert "my-lab/baseline" in server.repos

    shared = tmp_path / "shared" / "run-model"
    hub.save("run", str(shared), str(tmp_path / "alice"), out=quiet)
    with config_error("exists", "--force"):
        hub.save("run", str(shared), str(tmp_path / "alice"), out=quiet)
    dest = hub.load(str(shared), str(tmp_path / "bob"), out=quiet)
    assert os.path.basename(dest) == "run-model"
    rel = os.path.join("checkpoint_p0", "checkpoint_000000005_3000.pth")
    assert files_of(dest)[rel] == files_of(src)[rel]
    assert os.listdir(tmp_path / "shared") == ["run-model"]


def test_a_model_shipped_in_the_repository_installs_offline_before_the_hub(server, tmp_path, sf_config,
                                                                          monkeypatch):
    """A bare NAME with a directory in the repository's models/ installs from there, verified against its
    manifest, with the Hub unreachable; a name without one still means the Hub."""
    import metta.hub.naming as naming

    monkeypatch.setattr(naming, "SHIPPED_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    src = make_experiment(tmp_path / "alice", "run", 3_000, sf_config, seed=1)
    hub.save("run", str(tmp_path / "models" / "baseline"), str(tmp_path / "alice"), out=quiet)
    dest = hub.load("baseline", str(tmp_path / "bob"), out=quiet)
    assert dest == str(tmp_path / "bob" / "baseline") and not server.repos
    rel = os.path.join("checkpoint_p0", "checkpoint_000000005_3000.pth")
    assert files_of(dest)[rel] == files_of(src)[rel]
    assert naming.shipped("baseline") and naming.shipped("other") is None and naming.shipped("../x") is None
    with open(tmp_path / "models" / "baseline" / rel, "ab") as f:   # a changed file is refused, as from the Hub
        f.write(b"x")
    with config_error("sha256"):
        hub.load("baseline", str(tmp_path / "carol"), out=quiet)
    assert not (tmp_path / "carol" / "baseline").exists()


@pytest.mark.slow
def test_the_shipped_baseline_installs_offline_verified_and_plays(tmp_path, monkeypatch):
    """The repository's models/baseline: every file its manifest lists, verified by its sha256, installs with no
    network (config.json then names the train_dir it went to); its card names the teacher it learned from; the
    policy loads with no teacher configured and plays the eval suite's navigation scenario."""
    import json

    from metta.evals.play import play_episode
    from metta.evals.policies import load_experiment
    from metta.evals.scenarios import SCENARIOS
    from metta.hub.naming import SHIPPED_DIR

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with open(os.path.join(SHIPPED_DIR, "baseline", "manifest.json")) as f:
        manifest = json.load(f)
    dest = hub.load("baseline", str(tmp_path), out=quiet)
    for rel, meta in manifest["files"].items():
        if rel == "config.json":   # verified, then pointed at this train_dir and game (the install's adaptation)
            continue
        with open(os.path.join(dest, rel), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == meta["sha256"], rel
    with open(os.path.join(dest, "config.json")) as f:
        assert json.load(f)["train_dir"] == str(tmp_path)
    assert any(rel.endswith(".pth") for rel in manifest["files"])
    with open(os.path.join(SHIPPED_DIR, "baseline", "README.md")) as f:
        assert "teacher | `oracle`" in f.read()
    env = SCENARIOS["navigation"].make_env(0)
    outcome = play_episode(env, load_experiment("baseline", str(tmp_path)), 0)
    env.close()
    assert outcome.steps > 0 and outcome.actions.sum() == outcome.steps


def test_uploading_without_a_token_is_a_clear_error(server, tmp_path, sf_config, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    make_experiment(tmp_path / "alice", "run", 1_000, sf_config)
    with config_error(server.url, "lab/run", "HTTP 401", "HF_TOKEN"):
        hub.save("run", "lab/run", str(tmp_path / "alice"), out=quiet)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_scripts_help_round_trip_offline_cache_and_unreachable_endpoint(server, tmp_path, sf_config):
    for script in ("load_model.sh", "save_model.sh"):
        res = run(script, "--help", env=server.env, cwd=tmp_path)
        assert res.returncode == 0 and "usage:" in res.stdout and "METTA_HUB_ORG" in res.stdout

    make_experiment(tmp_path / "train_dir", "run", 4_096, sf_config, seed=2)
    res = run("save_model.sh", "run", "lab/run", env=server.env, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    (commit,) = server.repos["lab/run"].branches.values()
    assert commit in res.stdout and "4,096 env steps" in res.stdout
    res = run("load_model.sh", "lab/run", "--experiment", "fetched", env=server.env, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert os.path.join("train_dir", "fetched") in res.stdout and "sha256" in res.stdout

    # no Hub at all: a clear error naming the endpoint, no traceback, a non-zero exit, nothing written
    dead = f"http://127.0.0.1:{closed_port()}"
    env = dict(server.env, HF_ENDPOINT=dead)
    for script, args in (("load_model.sh", ["lab/run", "--experiment", "x"]), ("save_model.sh", ["run", "lab/y"])):
        res = run(script, *args, env=env, cwd=tmp_path)
        assert res.returncode == 1 and f"cannot reach the Hub at {dead}" in res.stderr, res.stderr
        assert "Traceback" not in res.stderr
    assert sorted(os.listdir(tmp_path / "train_dir")) == ["fetched", "run"]

    # offline, what is in the cache (HF_HOME) still installs; what is not is a clear error
    env = dict(env, HF_HUB_OFFLINE="1")
    res = run("load_model.sh", "lab/run", "--experiment", "offline", env=env, cwd=tmp_path)
    assert res.returncode == 0 and commit in res.stdout, res.stderr
    res = run("load_model.sh", "lab/never-fetched", env=env, cwd=tmp_path)
    assert res.returncode == 1 and "HF_HUB_OFFLINE" in res.stderr and "Traceback" not in res.stderr
