"""Where a model comes from and goes to: a Hub repository through huggingface_hub (its cache, HF_HOME; its
endpoint, HF_ENDPOINT; HF_HUB_OFFLINE; HF_TOKEN), or a local directory in the same layout. The Hub's
exceptions become one clear line naming the endpoint, the repository and what to do."""
from __future__ import annotations

import contextlib
import os
import re

from metta.errors import ConfigError
from metta.hub.naming import MANIFEST


def _reason(err: BaseException) -> str:
    found = re.findall(r"\[Errno -?\d+\] ([^'\")\]]+)", str(err))
    return found[-1].strip() if found else type(err).__name__


@contextlib.contextmanager
def hub_errors(repo_id: str, revision: str | None = None, file: str | None = None):
    """huggingface_hub's exceptions as one clear line naming the endpoint, the repository and what to do."""
    import requests
    from huggingface_hub import constants
    from huggingface_hub.errors import (EntryNotFoundError, HfHubHTTPError, LocalEntryNotFoundError,
                                        OfflineModeIsEnabled, RepositoryNotFoundError, RevisionNotFoundError)

    where, rev = f"{repo_id} on {constants.ENDPOINT}", revision or "main"
    unreachable = (f"cannot reach the Hub at {constants.ENDPOINT} ({{}}); check the address (HF_ENDPOINT) and "
                   f"the network, or set HF_HUB_OFFLINE=1 to use a model already in the cache")
    try:
        yield
    except RevisionNotFoundError:
        raise ConfigError(f"{where}: no revision {rev!r} (expected a branch, a tag or a commit id)") from None
    except RepositoryNotFoundError:
        raise ConfigError(f"{where}: no such model repository (if it is private, set HF_TOKEN or run "
                          f"`huggingface-cli login`)") from None
    except LocalEntryNotFoundError as err:
        if constants.HF_HUB_OFFLINE:
            raise ConfigError(f"HF_HUB_OFFLINE is set and {file or 'the model'} of {repo_id} at revision {rev!r} "
                              f"is not in the cache ({constants.HF_HUB_CACHE})") from None
        raise ConfigError(unreachable.format(_reason(err.__cause__ or err))) from None
    except EntryNotFoundError:
        what = ("no manifest.json: not a model saved by save_model.sh" if file == MANIFEST
                else f"no file {file!r}, which its manifest lists")
        raise ConfigError(f"{where} at revision {rev!r}: {what}") from None
    except OfflineModeIsEnabled:
        raise ConfigError(f"HF_HUB_OFFLINE is set: cannot reach {constants.ENDPOINT} for {repo_id}") from None
    except (requests.ConnectionError, requests.Timeout) as err:
        raise ConfigError(unreachable.format(_reason(err))) from None
    except HfHubHTTPError as err:
        status = err.response.status_code if err.response is not None else "?"
        hint = " (check that HF_TOKEN may write there)" if status in (401, 403) else ""
        raise ConfigError(f"{where}: the Hub answered HTTP {status}: {err.server_message or err}{hint}") from None
    except (requests.RequestException, RuntimeError) as err:  # a transfer cut short; an upload that failed
        cause = f": {_reason(err.__cause__)}" if err.__cause__ else ""
        raise ConfigError(f"{where}: transfer failed ({err}{cause})") from None


class HubSource:
    """Files of one commit of a Hub repository, through huggingface_hub's cache (HF_HOME)."""

    def __init__(self, repo_id: str, revision: str | None):
        self.repo_id, self.revision = repo_id, revision
        self.commit: str | None = None  # the commit id, once the first file is fetched

    def __str__(self) -> str:
        return f"{self.repo_id}@{self.commit or self.revision or 'main'}"

    def fetch(self, name: str) -> str:
        from huggingface_hub import HfApi, constants, hf_hub_download

        with hub_errors(self.repo_id, self.revision, name):
            if self.commit is None:
                if not constants.HF_HUB_OFFLINE:  # fail fast, and clearly, when the Hub is not there
                    HfApi().repo_info(self.repo_id, revision=self.revision)
                # by the name asked for, so the cache learns it (HF_HUB_OFFLINE later); then by commit id
                path = hf_hub_download(self.repo_id, name, revision=self.revision)
                self.commit = os.path.basename(os.path.dirname(path))
                return path
            return hf_hub_download(self.repo_id, name, revision=self.commit)

    def forget(self, path: str) -> None:
        """Drop a file that failed verification from the cache, so a retry fetches it again."""
        from huggingface_hub import constants

        cache = os.path.realpath(constants.HF_HUB_CACHE) + os.sep
        blob = os.path.realpath(path)  # the snapshot file is a link to a blob named by its digest
        if os.path.realpath(os.path.dirname(path)).startswith(cache):
            os.remove(path)
            if blob.startswith(cache) and os.path.exists(blob):
                os.remove(blob)


class LocalSource:
    """Files of a model saved to a local directory."""

    def __init__(self, root: str):
        self.root = os.path.realpath(os.path.expanduser(root))
        self.commit = None
        if not os.path.isdir(self.root):
            raise ConfigError(f"{root}: no such directory")

    def __str__(self) -> str:
        return self.root

    def fetch(self, name: str) -> str:
        path = os.path.join(self.root, name)
        if not os.path.realpath(path).startswith(self.root + os.sep):
            raise ConfigError(f"{path}: refused: leads outside {self.root}")
        if not os.path.isfile(path):
            what = "not a model saved by save_model.sh" if name == MANIFEST else "which its manifest lists"
            raise ConfigError(f"{path}: missing, {what}")
        return path

    def forget(self, path: str) -> None:
        pass  # the user's own files: never touched




def upload(repo_id: str, folder: str, message: str) -> str:
    """Make ``folder`` the whole content of the Hub repository ``repo_id`` (created if needed), in one commit;
    return its id."""
    from huggingface_hub import HfApi

    with hub_errors(repo_id):
        api = HfApi()
        api.create_repo(repo_id, exist_ok=True)
        commit = api.upload_folder(repo_id=repo_id, folder_path=folder, delete_patterns="*", commit_message=message)
    return commit.oid
