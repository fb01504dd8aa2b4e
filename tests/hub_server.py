"""A Hub-compatible HTTP endpoint on loopback, so tests drive the real ``huggingface_hub`` client.

It serves the part of the Hugging Face Hub's HTTP API that ``huggingface_hub`` 0.36 calls to create a repository,
upload a folder and download files: ``/api/repos/create``, model info by revision, the file tree, ``preupload``,
the LFS batch API with basic PUT transfers, ``commit`` (NDJSON), tags, ``validate-yaml`` and
``/{repo}/resolve/{revision}/{path}`` with the ``ETag``/``X-Repo-Commit`` headers and, for LFS files, a redirect to
blob storage with ``X-Linked-Etag``/``X-Linked-Size``. Every commit is kept and branches and tags point at commits,
so a revision resolves to the version it named. Writes need the server's token, as on the Hub; reads are public.
Errors carry the Hub's ``X-Error-Code`` headers so the client raises its own exception types.
"""
from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

# What the Hub's default .gitattributes sends through LFS (a subset: what a Metta model repository holds).
LFS_PATTERNS = ("*.pth", "*.pt", "*.bin", "*.safetensors", "*.mp4", "*.gif", "*.png", "*.zip")
GITATTRIBUTES = "".join(f"{p} filter=lfs diff=lfs merge=lfs -text\n" for p in LFS_PATTERNS).encode()


def git_blob_id(data: bytes) -> str:
    """The git object id of a regular file: what the Hub sends as its ETag."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Commit:
    oid: str
    parent: str | None
    message: str
    files: dict  # path -> (sha256 of the content, is an LFS file)


@dataclass
class Repo:
    commits: dict = field(default_factory=dict)  # oid -> Commit
    branches: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)

    def resolve(self, revision: str) -> Commit | None:
        oid = self.branches.get(revision) or self.tags.get(revision)
        if oid is None and re.fullmatch(r"[0-9a-f]{40}", revision):
            oid = revision
        return self.commits.get(oid)


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, **body):
        super().__init__(message)
        self.status, self.message, self.code, self.body = status, message, code, body


class HubServer:
    """``with HubServer(token="...") as hub:`` serves on ``hub.url`` until the block ends."""

    def __init__(self, token: str | None = None):
        self.token = token
        self.repos: dict[str, Repo] = {}
        self.blobs: dict[str, bytes] = {}  # sha256 -> content, for regular and LFS files alike
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, for tests to inspect
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "HubServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- storage --------------------------------------------------------------------------------------------

    def _repo(self, repo_id: str) -> Repo:
        if repo_id not in self.repos:
            raise HubError(404, f"Repository {repo_id} not found", "RepoNotFound")
        return self.repos[repo_id]

    def _commit(self, repo_id: str, revision: str) -> Commit:
        commit = self._repo(repo_id).resolve(revision)
        if commit is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return commit

    def _new_commit(self, repo: Repo, branch: str, parent: Commit | None, files: dict, message: str) -> Commit:
        body = json.dumps([parent.oid if parent else None, sorted(files.items()), message, len(repo.commits)])
        commit = Commit(hashlib.sha1(body.encode()).hexdigest(), parent.oid if parent else None, message, files)
        repo.commits[commit.oid] = commit
        repo.branches[branch] = commit.oid
        return commit

    def _store(self, data: bytes) -> str:
        oid = hashlib.sha256(data).hexdigest()
        self.blobs[oid] = data
        return oid

    def _check_token(self, headers) -> None:
        if self.token is not None and headers.get("authorization") != f"Bearer {self.token}":
            raise HubError(401, "Invalid credentials in Authorization header")

    # -- API ------------------------------------------------------------------------------------------------

    def create_repo(self, body: dict, base: str) -> dict:
        repo_id = f"{body['organization']}/{body['name']}" if body.get("organization") else body["name"]
        if body.get("type", "model") != "model":
            raise HubError(400, "this endpoint serves model repositories only")
        if repo_id in self.repos:
            raise HubError(409, "You already created this model repo", url=f"{base}/{repo_id}")
        repo = self.repos[repo_id] = Repo()
        self._new_commit(repo, "main", None, {".gitattributes": (self._store(GITATTRIBUTES), False)},
                         "initial commit")
        return {"url": f"{base}/{repo_id}", "name": repo_id}

    def model_info(self, repo_id: str, revision: str) -> dict:
        commit = self._commit(repo_id, revision)
        return {"id": repo_id, "modelId": repo_id, "sha": commit.oid, "private": False, "tags": [],
                "siblings": [{"rfilename": p} for p in sorted(commit.files)]}

    def tree(self, repo_id: str, revision: str, path: str, recursive: bool) -> list:
        commit = self._commit(repo_id, revision)
        prefix = f"{path.strip('/')}/" if path.strip("/") else ""
        out, folders = [], set()
        for p, (oid, lfs) in sorted(commit.files.items()):
            if not p.startswith(prefix):
                continue
            rest = p[len(prefix):]
            if "/" in rest and not recursive:
                folders.add(prefix + rest.split("/")[0])
                continue
            data = self.blobs[oid]
            entry = {"type": "file", "path": p, "size": len(data), "oid": git_blob_id(data)}
            if lfs:
                entry["lfs"] = {"oid": oid, "size": len(data), "pointerSize": 134}
            out.append(entry)
        if not out and not folders and prefix:
            raise HubError(404, f"{path} does not exist at {revision}", "EntryNotFound")
        return [{"type": "directory", "path": f, "oid": hashlib.sha1(f.encode()).hexdigest()}
                for f in sorted(folders)] + out

    def preupload(self, repo_id: str, revision: str, body: dict) -> dict:
        repo = self._repo(repo_id)
        commit = repo.resolve(revision)
        files = []
        for f in body["files"]:
            lfs = any(fnmatch.fnmatch(f["path"].rsplit("/", 1)[-1], p) for p in LFS_PATTERNS)
            remote = commit.files.get(f["path"]) if commit else None
            oid = None
            if remote is not None and remote[1] == lfs:
                oid = remote[0] if lfs else git_blob_id(self.blobs[remote[0]])
            files.append({"path": f["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False,
                          "oid": oid})
        return {"files": files, "commitOid": commit.oid if commit else None}

    def lfs_batch(self, repo_id: str, body: dict, base: str) -> dict:
        self._repo(repo_id)
        if body.get("operation") != "upload":
            raise HubError(400, "only uploads go through the batch API here")
        objects = []
        for obj in body["objects"]:
            entry = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            if obj["oid"] not in self.blobs:
                entry["actions"] = {"upload": {"href": f"{base}/_lfs/{obj['oid']}", "expires_in": 3600}}
            objects.append(entry)
        return {"transfer": "basic", "objects": objects}

    def put_blob(self, oid: str, data: bytes) -> None:
        if hashlib.sha256(data).hexdigest() != oid:
            raise HubError(400, f"content does not hash to {oid}")
        self.blobs[oid] = data

    def commit(self, repo_id: str, revision: str, ndjson: bytes, base: str) -> dict:
        repo = self._repo(repo_id)
        if revision not in repo.branches:
            raise HubError(404, f"Invalid rev id: {revision} (commits go to a branch)", "RevisionNotFound")
        parent = repo.commits[repo.branches[revision]]
        files = dict(parent.files)
        header = {}
        for line in ndjson.splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            key, value = item["key"], item["value"]
            if key == "header":
                header = value
            elif key == "file":
                files[value["path"]] = (self._store(base64.b64decode(value["content"])), False)
            elif key == "lfsFile":
                if value["oid"] not in self.blobs:
                    raise HubError(400, f"LFS object {value['oid']} was never uploaded")
                files[value["path"]] = (value["oid"], True)
            elif key == "deletedFile":
                if files.pop(value["path"], None) is None:
                    raise HubError(404, "A file with this name doesn't exist", "EntryNotFound")
            elif key == "deletedFolder":
                prefix = value["path"].rstrip("/") + "/"
                files = {p: v for p, v in files.items() if not p.startswith(prefix)}
            else:
                raise HubError(400, f"unknown commit operation {key!r}")
        if header.get("parentCommit") and not parent.oid.startswith(header["parentCommit"]):
            raise HubError(412, f"A commit has happened since {header['parentCommit']}")
        commit = self._new_commit(repo, revision, parent, files, header.get("summary", ""))
        return {"commitUrl": f"{base}/{repo_id}/commit/{commit.oid}", "commitOid": commit.oid,
                "pullRequestUrl": None}

    def tag(self, repo_id: str, revision: str, body: dict) -> dict:
        repo = self._repo(repo_id)
        commit = self._commit(repo_id, revision)
        if body["tag"] in repo.tags:
            raise HubError(409, f"Tag {body['tag']} already exists")
        repo.tags[body["tag"]] = commit.oid
        return {}

    def resolve(self, repo_id: str, revision: str, path: str, base: str) -> tuple[int, dict, bytes]:
        commit = self._commit(repo_id, revision)
        if path not in commit.files:
            raise HubError(404, f"{path} does not exist at {revision}", "EntryNotFound")
        oid, lfs = commit.files[path]
        data = self.blobs[oid]
        headers = {"X-Repo-Commit": commit.oid}
        if lfs:  # the Hub sends LFS files from blob storage, another address, with the linked digest and size
            headers.update({"Location": f"{base}/_lfs/{oid}", "X-Linked-Etag": f'"{oid}"',
                            "X-Linked-Size": str(len(data)), "ETag": f'"{git_blob_id(data)}"'})
            return 302, headers, b""
        headers["ETag"] = f'"{git_blob_id(data)}"'
        return 200, headers, data


def _handler(hub: HubServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet: pytest shows failures, not access logs
            pass

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    chunk = self.rfile.read(size)
                    self.rfile.readline()
                    if size == 0:
                        return b"".join(chunks)
                    chunks.append(chunk)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _send(self, status: int, headers: dict, data: bytes, head: bool = False) -> None:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if not head:
                self.wfile.write(data)

        def _json(self, obj) -> None:
            self._send(200, {"Content-Type": "application/json"}, json.dumps(obj).encode())

        def _serve(self, method: str) -> None:
            body = self._body() if method in ("POST", "PUT") else b""
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            parts = [unquote(p) for p in url.path.split("/")[1:]]
            base = f"http://{self.headers['Host']}"
            hub.requests.append((method, url.path))
            try:
                with hub.lock:
                    self._route(method, parts, query, body, base)
            except HubError as err:
                headers = {"Content-Type": "application/json", "X-Error-Message": err.message}
                if err.code:
                    headers["X-Error-Code"] = err.code
                body = json.dumps({"error": err.message, **err.body}).encode()
                self._send(err.status, headers, body, head=method == "HEAD")

        def _route(self, method: str, parts: list, query: dict, body: bytes, base: str) -> None:
            head = method == "HEAD"
            if parts[0] == "_lfs" and len(parts) == 2:
                if method == "PUT":  # like a presigned storage URL: no token, the content must hash to its name
                    hub.put_blob(parts[1], body)
                    return self._send(200, {}, b"")
                if parts[1] not in hub.blobs:
                    raise HubError(404, "no such object")
                data = hub.blobs[parts[1]]
                headers = {"ETag": f'"{parts[1]}"', "Accept-Ranges": "bytes"}
                match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
                if match:  # resumed downloads ask for the rest of a file
                    start, end = int(match[1]), int(match[2]) if match[2] else len(data) - 1
                    headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
                    return self._send(206, headers, data[start:end + 1], head)
                return self._send(200, headers, data, head)
            if parts[:2] == ["api", "repos"] and parts[2:] == ["create"] and method == "POST":
                hub._check_token(self.headers)
                return self._json(hub.create_repo(json.loads(body), base))
            if parts[:2] == ["api", "validate-yaml"] and method == "POST":
                return self._json({"errors": [], "warnings": []})
            if parts[:2] == ["api", "models"] and len(parts) >= 4:
                repo_id, rest = f"{parts[2]}/{parts[3]}", parts[4:]
                if not rest and method == "GET":
                    return self._json(hub.model_info(repo_id, "main"))
                if len(rest) == 2 and rest[0] == "revision" and method == "GET":
                    return self._json(hub.model_info(repo_id, rest[1]))
                if len(rest) >= 2 and rest[0] == "tree" and method == "GET":
                    recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
                    return self._json(hub.tree(repo_id, rest[1], "/".join(rest[2:]), recursive))
                if len(rest) == 2 and method == "POST":
                    hub._check_token(self.headers)
                    if rest[0] == "preupload":
                        return self._json(hub.preupload(repo_id, rest[1], json.loads(body)))
                    if rest[0] == "commit":
                        return self._json(hub.commit(repo_id, rest[1], body, base))
                    if rest[0] == "tag":
                        return self._json(hub.tag(repo_id, rest[1], json.loads(body)))
            if len(parts) == 6 and parts[1].endswith(".git") and parts[2:] == ["info", "lfs", "objects", "batch"]:
                hub._check_token(self.headers)
                return self._json(hub.lfs_batch(f"{parts[0]}/{parts[1][:-4]}", json.loads(body), base))
            if len(parts) >= 5 and parts[2] == "resolve" and method in ("GET", "HEAD"):
                status, headers, data = hub.resolve(f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:]), base)
                return self._send(status, headers, data, head)
            raise HubError(404, f"no route for {method} {self.path}")

        def do_GET(self):
            self._serve("GET")

        def do_HEAD(self):
            self._serve("HEAD")

        def do_POST(self):
            self._serve("POST")

        def do_PUT(self):
            self._serve("PUT")

    return Handler
