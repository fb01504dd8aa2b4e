"""The command line: ``python -m metta.hub load|save`` (devops/load_model.sh, devops/save_model.sh)."""
from __future__ import annotations

import argparse
import sys

from metta.errors import ConfigError
from metta.hub.install import load
from metta.hub.naming import DEFAULT_ORG, ORG_ENV
from metta.hub.publish import save


def main(argv: list[str] | None = None) -> int:
    epilog = (f"A bare NAME is a model shipped in the repository's models/ when there is one (baseline), else "
              f"${ORG_ENV}/NAME (default organisation: {DEFAULT_ORG}); a path (/, ., ~ or an existing directory) "
              f"means a local directory. HF_ENDPOINT, HF_HOME, HF_HUB_OFFLINE and HF_TOKEN apply.")
    ap = argparse.ArgumentParser(prog="python -m metta.hub", epilog=epilog,
                                 description="Share trained models through the Hugging Face Hub.")
    sub = ap.add_subparsers(dest="command", required=True)
    ld = sub.add_parser("load", help="fetch a model into train_dir/EXPERIMENT (devops/load_model.sh)", epilog=epilog,
                        description="Download a model (Hub repo ORG/NAME, bare NAME in the default organisation, or "
                                    "a local directory), verify every file against its manifest, read checkpoints "
                                    "without running code, and install it into train_dir/EXPERIMENT.")
    ld.add_argument("name", metavar="NAME", help="a model shipped in models/, ORG/NAME, NAME, or a local directory")
    ld.add_argument("--revision", help="a branch, tag or commit id (default: main)")
    ld.add_argument("--experiment", help="the experiment name to install under (default: the repository's name)")
    ld.add_argument("--train_dir", default="train_dir", help="Sample Factory's train_dir (default: %(default)s)")
    ld.add_argument("--force", action="store_true", help="replace an existing experiment of that name")
    sv = sub.add_parser("save", help="upload an experiment's latest model (devops/save_model.sh)", epilog=epilog,
                        description="Upload an experiment's latest checkpoint, config.json, game file, latest "
                                    "evaluation video and stats, a manifest of sha256 digests and a model card to a "
                                    "Hub repository (created if needed), or write them to a local directory.")
    sv.add_argument("experiment", metavar="EXPERIMENT", help="an experiment under train_dir")
    sv.add_argument("repo", metavar="REPO", help="ORG/NAME, NAME, or a local directory")
    sv.add_argument("--train_dir", default="train_dir", help="Sample Factory's train_dir (default: %(default)s)")
    sv.add_argument("--force", action="store_true", help="replace an existing local directory")
    args = ap.parse_args(argv)
    try:
        if args.command == "load":
            load(args.name, args.train_dir, args.experiment, args.revision, args.force)
        else:
            save(args.experiment, args.repo, args.train_dir, args.force)
    except (ConfigError, OSError) as err:  # OSError: a full disk, a permission; nothing was left half-written
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: nothing was installed", file=sys.stderr)
        return 130
    return 0
