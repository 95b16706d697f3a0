#!/usr/bin/env python3
"""spr-docker-host: a small Docker host for spinner_rollback.

It records each spinner state in a spinner_rollback store (through the
Python binding) and applies it to a local Docker engine through the
``docker`` CLI (every call an argument list, never a shell string).

    host.py deploy   SPINNER STATE.json
    host.py rollback SPINNER VERSION [--data VOL=current|snapshot:ID ...] [--confirm]
    host.py snapshot SPINNER VOLUME
    host.py status   SPINNER [--json]

Global options: ``--home DIR`` (store, key, materialised files, snapshots;
default ``$SPR_DOCKER_HOME`` or ``~/.local/state/spr-docker-host``),
``--tools-image`` (busybox image for volume snapshots).

Exit codes: 0 done; 1 the engine or the rollout failed (old containers kept);
2 refused (invalid input, library refusal such as SPR_E_CURRENT_VERSION);
3 the plan needs ``--confirm``.

See docs/docker-host.md for what is applied and how.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import fcntl
import hashlib
import hmac
import io
import json
import os
import re
import secrets as pysecrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

try:
    import spinner_rollback as spr
except ImportError as e:  # pragma: no cover - depends on the environment
    sys.stderr.write(
        f"error: cannot import spinner_rollback ({e}); install bindings/python "
        "and set SPR_LIBRARY=<build>/libspinner_rollback.so.0\n"
    )
    sys.exit(2)

DEFAULT_TOOLS_IMAGE = "spr-host-tools:1"
DEFAULT_PRICING = {"currency": "USD", "perGiBMonth": {"*": 0.10}}
DEFAULT_STORAGE_CLASS = "local"
LABEL = "io.spinner-rollback"  # prefix of the labels this host puts on what it creates
EXIT_FAILED, EXIT_REFUSED, EXIT_CONFIRM = 1, 2, 3


# ----------------------------------------------------------------------------
# Errors and output
# ----------------------------------------------------------------------------


class HostError(Exception):
    """An error this host reports and exits on (message already clear)."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class DockerError(HostError):
    """A docker CLI call failed."""


def say(msg: str = "") -> None:
    print(msg, flush=True)


def step(msg: str) -> None:
    print(f"==> {msg}", flush=True)


def warn(msg: str) -> None:
    print(f"warning: {msg}", file=sys.stderr, flush=True)


def short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def lib_error(e: "spr.SpinnerRollbackError") -> HostError:
    where = f" [path: {e.path}]" if e.path else ""
    return HostError(f"{e.name} (code {e.code}): {e.message}{where}", EXIT_REFUSED)


# ----------------------------------------------------------------------------
# Docker CLI
# ----------------------------------------------------------------------------


class Docker:
    """The docker CLI: argument lists only, stderr surfaced on failure."""

    def __init__(self, binary: Optional[str] = None) -> None:
        self.binary = binary or os.environ.get("SPR_DOCKER") or shutil.which("docker") or "docker"

    def run(self, args: Sequence[str], *, check: bool = True, timeout: float = 300,
            stdin: Optional[bytes] = None) -> subprocess.CompletedProcess:
        cmd = [self.binary, *args]
        try:
            p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=timeout, check=False)
        except FileNotFoundError:
            raise DockerError(f"docker CLI not found ({self.binary})") from None
        except subprocess.TimeoutExpired:
            raise DockerError(f"docker {args[0]} timed out after {timeout:.0f}s") from None
        if check and p.returncode != 0:
            err = p.stderr.decode("utf-8", "replace").strip()
            raise DockerError(f"docker {' '.join(args[:2])} failed (exit {p.returncode}): {err}")
        return p

    def out(self, args: Sequence[str], **kw: Any) -> str:
        return self.run(args, **kw).stdout.decode("utf-8", "replace").strip()

    def inspect(self, kind: str, name: str) -> Optional[Dict[str, Any]]:
        """``docker <kind> inspect NAME`` as a dict, or None when it does not exist."""
        p = self.run([kind, "inspect", "--format", "{{json .}}", name], check=False)
        if p.returncode != 0:
            return None
        return json.loads(p.stdout)

    def containers(self, spinner: str) -> List[Dict[str, Any]]:
        """Containers (running or not) this host made for *spinner*, with their labels."""
        ids = self.out(["ps", "-a", "-q", "--no-trunc", "--filter", f"label={LABEL}.spinner={spinner}"]).split()
        if not ids:
            return []
        data = json.loads(self.out(["container", "inspect", *ids]))
        return [c for c in data if c["Config"]["Labels"].get(f"{LABEL}.spinner") == spinner]

    def remove(self, names: Sequence[str], stop_timeout: int = 10) -> None:
        """Stop then remove containers. Never ``rm -v``: volumes are never deleted."""
        if not names:
            return
        self.run(["stop", "-t", str(stop_timeout), *names], check=False, timeout=stop_timeout + 60)
        self.run(["rm", "-f", *names], check=False)


# ----------------------------------------------------------------------------
# Quantities (Kubernetes notation)
# ----------------------------------------------------------------------------

_QTY = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E))?$")
_SUFFIX = {"": 1, "m": Decimal("0.001"), "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
           "P": 10**15, "E": 10**18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
           "Pi": 2**50, "Ei": 2**60}


def quantity(value: Any, what: str) -> Decimal:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    m = _QTY.match(str(value))
    if not m:
        raise HostError(f"{what}: not a quantity: {value!r}", EXIT_REFUSED)
    try:
        n = Decimal(m.group(1))
        if m.group(2):
            n = n.scaleb(int(m.group(2)[1:]))
    except InvalidOperation:
        raise HostError(f"{what}: not a quantity: {value!r}", EXIT_REFUSED) from None
    return n * Decimal(_SUFFIX[m.group(3) or ""])


# ----------------------------------------------------------------------------
# The host's home: store, key, materialised files, snapshots, locks
# ----------------------------------------------------------------------------


def _mkdir(path: str, mode: int) -> str:
    os.makedirs(path, mode=mode, exist_ok=True)
    os.chmod(path, mode)
    return path


class Home:
    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        _mkdir(self.root, 0o700)
        self.store_path = os.path.join(self.root, "store.db")
        self.key_path = os.path.join(self.root, "store.key")
        self.pricing_path = os.path.join(self.root, "pricing.json")
        self.run_dir = _mkdir(os.path.join(self.root, "run"), 0o755)          # config maps
        self.secret_dir = _mkdir(os.path.join(self.root, "secrets"), 0o700)   # secrets
        self.snap_dir = _mkdir(os.path.join(self.root, "snapshots"), 0o700)
        self.lock_dir = _mkdir(os.path.join(self.root, "locks"), 0o700)
        self.state_dir = _mkdir(os.path.join(self.root, "spinners"), 0o700)

    def key(self) -> bytes:
        """The store's secrets key (64 hex), created 0600 on first use."""
        if not os.path.exists(self.key_path):
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(pysecrets.token_hex(32) + "\n")
        st = os.stat(self.key_path)
        if st.st_mode & 0o077:
            raise HostError(f"{self.key_path} must not be readable by group or others (chmod 600)")
        with open(self.key_path, "rb") as f:
            return f.read().strip()

    def pricing(self) -> Dict[str, Any]:
        if os.path.exists(self.pricing_path):
            with open(self.pricing_path) as f:
                return json.load(f)
        return DEFAULT_PRICING

    def open_store(self) -> "spr.Store":
        self.key()
        try:
            return spr.Store(self.store_path, key_file=self.key_path, pricing=self.pricing())
        except spr.SpinnerRollbackError as e:
            raise lib_error(e) from None

    @contextlib.contextmanager
    def lock(self, spinner: str) -> Iterator[None]:
        """One host command at a time per spinner (across processes)."""
        fd = os.open(os.path.join(self.lock_dir, f"{spinner}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                say(f"waiting for another host command on {spinner} …")
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def next_release(self, spinner: str) -> int:
        path = os.path.join(self.state_dir, f"{spinner}.release")
        n = 0
        if os.path.exists(path):
            with open(path) as f:
                n = int(f.read().strip() or 0)
        n += 1
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{n}\n")
        os.replace(tmp, path)
        return n

    def release_dirs(self, spinner: str, tag: str) -> Tuple[str, str]:
        return (os.path.join(self.run_dir, spinner, tag), os.path.join(self.secret_dir, spinner, tag))

    def remove_release(self, spinner: str, tag: str) -> None:
        for d in self.release_dirs(spinner, tag):
            shutil.rmtree(d, ignore_errors=True)


# ----------------------------------------------------------------------------
# Applying a state
# ----------------------------------------------------------------------------


def state_hmac(key: bytes, state: Dict[str, Any]) -> str:
    """Identifies an applied state on container labels without exposing its secrets."""
    body = json.dumps(state, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()[:32]


def mount_arg(**fields: str) -> str:
    """A ``--mount`` value; docker parses it as CSV, so quote fields as CSV."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow([f"{k}={v}" for k, v in fields.items() if v is not None])
    return buf.getvalue()


def resolve_image(docker: Docker, image: Dict[str, Any], where: str,
                  quiet: bool = False) -> Tuple[str, Dict[str, Any]]:
    """The immutable local image ID to run, and the image's inspect data.

    With a digest: the local image whose ID is that digest, else a local
    image whose RepoDigest is ``repo@digest``. This host never pulls.
    Without a digest: the tag, resolved now (with a warning).
    """
    ref, digest = image["reference"], image.get("digest")
    if digest:
        info = docker.inspect("image", digest)
        if info and info.get("Id") == digest:
            tag_info = docker.inspect("image", ref.split("@")[0])
            if tag_info and tag_info["Id"] != digest and not quiet:
                warn(f"{where}: tag {ref} now points at {tag_info['Id'][:19]}…; "
                     f"running the recorded image {digest[:19]}…")
            return digest, info
        repo = ref.split("@")[0]
        last = repo.rsplit("/", 1)[-1]
        if ":" in last:
            repo = repo[: len(repo) - len(last)] + last.split(":")[0]
        info = docker.inspect("image", f"{repo}@{digest}")
        if info:
            return info["Id"], info
        raise HostError(f"{where}: image {ref} with digest {digest} is not present locally "
                        "(this host never pulls; build or load it first)")
    info = docker.inspect("image", ref)
    if not info:
        raise HostError(f"{where}: image {ref} is not present locally (this host never pulls)")
    if not quiet:
        warn(f"{where}: image {ref} has no digest; running what the tag points at now ({info['Id'][:19]}…)")
    return info["Id"], info


def numeric_user(user: str) -> Optional[int]:
    u = (user or "").split(":")[0]
    if u in ("", "root"):
        return 0
    return int(u) if u.isdigit() else None


class Applier:
    """Starts a state's containers next to the running ones, then swaps."""

    def __init__(self, home: Home, docker: Docker, tools_image: str, timeout: float) -> None:
        self.home, self.docker, self.tools_image, self.timeout = home, docker, tools_image, timeout

    # -- volumes ---------------------------------------------------------------

    def ensure_volume(self, name: str, spinner: str, owner: Optional[Tuple[int, int]]) -> None:
        if self.docker.inspect("volume", name) is not None:
            return
        self.docker.run(["volume", "create", "--label", f"{LABEL}.spinner={spinner}",
                         "--label", f"{LABEL}.created-by=spr-docker-host", name])
        step(f"created volume {name}")
        if owner and owner != (0, 0):
            # Like a Kubernetes fsGroup: a new, empty volume belongs to the container's user.
            self.docker.run(["run", "--rm", "--network", "none", "--pull", "never",
                             "--mount", mount_arg(type="volume", src=name, dst="/v"),
                             self.tools_image, "chown", f"{owner[0]}:{owner[1]}", "/v"])

    # -- files -----------------------------------------------------------------

    @staticmethod
    def _safe_key(key: str, where: str) -> str:
        if key in (".", "..") or "/" in key or "\x00" in key or not key:
            raise HostError(f"{where}: key {key!r} cannot be a file name", EXIT_REFUSED)
        return key

    def write_config(self, base: str, name: str, values: Dict[str, str]) -> str:
        d = _mkdir(os.path.join(base, "configmaps", name), 0o755)
        for k, v in values.items():
            p = os.path.join(d, self._safe_key(k, f"$.configMaps.{name}"))
            with open(p, "w", encoding="utf-8") as f:
                f.write(v)
            os.chmod(p, 0o444)
        os.chmod(d, 0o555)
        return d

    def write_secret(self, base: str, name: str, values: Dict[str, str], owner: Tuple[int, int]) -> str:
        d = _mkdir(os.path.join(base, name), 0o700)
        for k, v in values.items():
            p = os.path.join(d, self._safe_key(k, f"$.secrets.{name}"))
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o400)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(v)
            os.chmod(p, 0o400)
            self._chown(p, owner)
        os.chmod(d, 0o500)
        self._chown(d, owner)
        return d

    @staticmethod
    def _chown(path: str, owner: Tuple[int, int]) -> None:
        if owner == (os.geteuid(), os.getegid()):
            return
        try:
            os.chown(path, owner[0], owner[1])
        except PermissionError:
            warn(f"cannot chown secret files to {owner[0]}:{owner[1]} (host not root): "
                 "the container user may not read them")

    def write_env_file(self, base: str, cname: str, env: List[Tuple[str, str]]) -> str:
        """Env values (secrets included) go through a 0400 file, never the command line."""
        _mkdir(base, 0o700)
        p = os.path.join(base, f".env-{cname}")
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o400)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for k, v in env:
                f.write(f"{k}={v}\n")
        return p

    # -- building docker run arguments -------------------------------------------

    def container_args(self, spinner: str, state: Dict[str, Any], ci: int, c: Dict[str, Any],
                       image_id: str, image_info: Dict[str, Any], cfg_base: str, sec_base: str,
                       written: Dict[str, str]) -> Tuple[List[str], List[Tuple[str, str]], Tuple[int, int]]:
        where = f"$.containers[{ci}]"
        sc = c.get("securityContext") or {}
        img_user = (image_info.get("Config") or {}).get("User") or ""
        uid = sc.get("runAsUser")
        if uid is None:
            uid = numeric_user(img_user)
            if uid is None:
                warn(f"{where}: image user {img_user!r} is not numeric; files are owned by root")
                uid = 0
        gid = sc.get("runAsGroup", sc.get("fsGroup", 0))
        if sc.get("runAsNonRoot") and uid == 0:
            raise HostError(f"{where}.securityContext: runAsNonRoot is set but the container "
                            f"would run as root (image user {img_user or 'root'!r})", EXIT_REFUSED)
        owner = (int(uid), int(gid))

        args: List[str] = ["--restart", "unless-stopped"]
        if "runAsUser" in sc:
            args += ["--user", f"{sc['runAsUser']}:{sc['runAsGroup']}" if "runAsGroup" in sc else str(sc["runAsUser"])]
        elif "runAsGroup" in sc:
            args += ["--user", f"{uid}:{sc['runAsGroup']}"]
        if "fsGroup" in sc:
            args += ["--group-add", str(sc["fsGroup"])]
        if sc.get("readOnlyRootFilesystem"):
            args.append("--read-only")
        if sc.get("allowPrivilegeEscalation") is False:
            args += ["--security-opt", "no-new-privileges"]
        if sc.get("privileged"):
            args.append("--privileged")
        caps = sc.get("capabilities") or {}
        for cap in caps.get("drop") or []:
            args += ["--cap-drop", cap]
        for cap in caps.get("add") or []:
            args += ["--cap-add", cap]

        res = c.get("resources") or {}
        if "cpu" in res:
            cpus = quantity(res["cpu"], f"{where}.resources.cpu")
            if cpus < Decimal("0.01"):
                warn(f"{where}.resources.cpu {res['cpu']} is below Docker's minimum; using 0.01")
                cpus = Decimal("0.01")
            args += ["--cpus", format(cpus.normalize(), "f")]
        if "memory" in res:
            args += ["--memory", str(int(quantity(res["memory"], f"{where}.resources.memory")))]

        for p in c.get("ports") or []:
            if p.get("expose"):
                proto = (p.get("protocol") or "TCP").lower()
                args += ["-p", f"127.0.0.1::{p['containerPort']}/{proto}"]

        env: List[Tuple[str, str]] = []
        for i, e in enumerate(c.get("env") or []):
            if "value" in e:
                v = e["value"]
            elif "secretRef" in e:
                r = e["secretRef"]
                v = state["secrets"][r["name"]][r["key"]]
            else:
                r = e["configMapRef"]
                v = state["configMaps"][r["name"]][r["key"]]
            if "\n" in v or "\r" in v:
                raise HostError(f"{where}.env[{i}] ({e['name']}): a value with a line break cannot "
                                "be passed to docker through an env file", EXIT_REFUSED)
            env.append((e["name"], v))

        vols = {v["name"]: v for v in state.get("volumes") or []}
        for m in c.get("mounts") or []:
            ro = "readonly" if m.get("readOnly") else None
            if "configMap" in m:
                name = m["configMap"]
                key = f"cm/{name}"
                if key not in written:
                    written[key] = self.write_config(cfg_base, name, state["configMaps"][name])
                args += ["--mount", mount_arg(type="bind", src=written[key], dst=m["path"], readonly="true")]
            elif "secret" in m:
                name = m["secret"]
                key = f"secret/{name}/{owner}"
                if key not in written:
                    base = os.path.join(sec_base, f"{owner[0]}-{owner[1]}")
                    _mkdir(base, 0o700)
                    written[key] = self.write_secret(base, name, state["secrets"][name], owner)
                args += ["--mount", mount_arg(type="bind", src=written[key], dst=m["path"], readonly="true")]
            else:
                vol = vols[m["volume"]]
                args += ["--mount", mount_arg(type="volume", src="{VOLUME:" + vol["name"] + "}",
                                              dst=m["path"], readonly="true" if ro else None)]

        if c.get("workingDir"):
            args += ["-w", c["workingDir"]]
        for k, v in (state.get("labels") or {}).items():
            args += ["--label", f"{k}={v}"]
        command, cargs = list(c.get("command") or []), list(c.get("args") or [])
        tail: List[str] = []
        if command:
            args += ["--entrypoint", command[0]]
            tail = command[1:] + cargs
        else:
            tail = cargs
        return args + ["--pull", "never", image_id] + tail, env, owner

    # -- probes --------------------------------------------------------------------

    @staticmethod
    def _port_number(c: Dict[str, Any], port: Any) -> int:
        if isinstance(port, int):
            return port
        for p in c.get("ports") or []:
            if p.get("name") == port:
                return int(p["containerPort"])
        raise HostError(f"probe port {port!r} not found")

    def _probe_once(self, name: str, c: Dict[str, Any], probe: Dict[str, Any]) -> Tuple[bool, str]:
        info = self.docker.inspect("container", name)
        if info is None:
            return False, "container vanished"
        st = info["State"]
        if st.get("Status") in ("exited", "dead") or st.get("Restarting") or info.get("RestartCount", 0) > 0:
            return False, f"container {st.get('Status')} (exit code {st.get('ExitCode')}); see `docker logs {name}`"
        if not st.get("Running"):
            return False, f"container {st.get('Status')}"
        tout = float(probe.get("timeoutSeconds") or 1)
        if "httpGet" in probe or "tcpSocket" in probe:
            spec = probe.get("httpGet") or probe.get("tcpSocket")
            port = self._port_number(c, spec["port"])
            host, hport = self._address(info, port)
            if "tcpSocket" in probe:
                try:
                    with socket.create_connection((host, hport), timeout=tout):
                        return True, "tcp ok"
                except OSError as e:
                    return False, f"tcp {host}:{hport}: {e}"
            url = f"http://{host}:{hport}{spec.get('path') or '/'}"
            try:
                with urllib.request.urlopen(url, timeout=tout) as r:
                    return 200 <= r.status < 400, f"GET {spec.get('path')} → {r.status}"
            except urllib.error.HTTPError as e:
                return False, f"GET {spec.get('path')} → {e.code}"
            except OSError as e:
                return False, f"GET {spec.get('path')}: {getattr(e, 'reason', e)}"
        if "exec" in probe:
            p = self.docker.run(["exec", name, *probe["exec"]["command"]], check=False, timeout=tout + 10)
            return p.returncode == 0, f"exec exit {p.returncode}"
        return True, "running"

    @staticmethod
    def _address(info: Dict[str, Any], port: int) -> Tuple[str, int]:
        net = info.get("NetworkSettings") or {}
        for key in (f"{port}/tcp",):
            for b in (net.get("Ports") or {}).get(key) or []:
                if b.get("HostPort"):
                    return "127.0.0.1", int(b["HostPort"])
        ip = net.get("IPAddress") or next(
            (n.get("IPAddress") for n in (net.get("Networks") or {}).values() if n.get("IPAddress")), "")
        if not ip:
            raise HostError(f"container {info['Name']} has no address to probe port {port}")
        return ip, port

    def wait_ready(self, started: List[Tuple[str, Dict[str, Any]]]) -> Optional[str]:
        """Wait until every container passes its startup and readiness probes.

        None when ready; else why not. Without probes a container is ready once
        it has run for a second without restarting.
        """
        deadline = time.monotonic() + self.timeout
        pending = list(started)
        last = ""
        t0 = time.monotonic()
        while pending:
            still = []
            for name, c in pending:
                probes = c.get("probes") or {}
                chain = [probes[k] for k in ("startup", "readiness") if k in probes]
                if not chain:
                    chain = [{"initialDelaySeconds": 1}]
                ok = True
                for probe in chain:
                    if time.monotonic() - t0 < float(probe.get("initialDelaySeconds") or 0):
                        ok, last = False, "initial delay"
                        break
                    good, why = self._probe_once(name, c, probe)
                    if not good:
                        ok, last = False, f"{name}: {why}"
                        if "see `docker logs" in why:
                            return last
                        break
                if not ok:
                    still.append((name, c))
            pending = still
            if pending:
                if time.monotonic() > deadline:
                    return f"not ready after {self.timeout:.0f}s ({last})"
                time.sleep(0.2)
        return None

    # -- the rollout -------------------------------------------------------------------

    def apply(self, spinner: str, state: Dict[str, Any], version: Optional[int], key: bytes,
              *, force: bool = False) -> Tuple[bool, str]:
        """Start *state*'s containers, wait for readiness, then retire the old ones.

        Returns (ok, message). On failure the new containers are removed and the
        old ones keep running. Volumes are never deleted.
        """
        digest = state_hmac(key, state)
        old = self.docker.containers(spinner)
        running = [c for c in old if c["State"].get("Running")]
        if not force and old and len(running) == len(old) and all(
                c["Config"]["Labels"].get(f"{LABEL}.state") == digest for c in old) and \
                len(old) == state["instances"] * len(state["containers"]):
            return True, "already running this state; nothing to do"

        release = self.home.next_release(spinner)
        tag = f"v{version}-r{release}" if version else f"r{release}"
        cfg_base, sec_base = self.home.release_dirs(spinner, tag)
        _mkdir(os.path.dirname(sec_base), 0o700)
        existing = {c["Name"].lstrip("/") for c in old}

        # Resolve images and build arguments before starting anything.
        plans = []
        written: Dict[str, str] = {}
        vols = {v["name"]: v for v in state.get("volumes") or []}
        vol_owner: Dict[str, Tuple[int, int]] = {}
        try:
            for ci, c in enumerate(state["containers"]):
                image_id, info = resolve_image(self.docker, c["image"], f"$.containers[{ci}].image")
                args, env, owner = self.container_args(spinner, state, ci, c, image_id, info,
                                                       cfg_base, sec_base, written)
                for m in c.get("mounts") or []:
                    if "volume" in m:
                        vol_owner.setdefault(m["volume"], owner)
                plans.append((ci, c, args, env))
        except HostError:
            self.home.remove_release(spinner, tag)
            raise

        for vname, vol in vols.items():
            if vname not in vol_owner:
                continue
            if vol.get("mode") == "dedicated":
                for i in range(state["instances"]):
                    self.ensure_volume(f"{vol['volumeId']}-{i}", spinner, vol_owner[vname])
            else:
                self.ensure_volume(vol["volumeId"], spinner, vol_owner[vname])

        started: List[Tuple[str, Dict[str, Any]]] = []
        created: List[str] = []
        multi = len(state["containers"]) > 1
        base = f"{spinner}-v{version}" if version else f"{spinner}-r{release}"
        if version and any(n.startswith(f"{base}-") for n in existing):
            base = f"{spinner}-v{version}-r{release}"
        try:
            for i in range(state["instances"]):
                for ci, c, args, env in plans:
                    name = f"{base}-{i}" + (f"-{c['name']}" if multi else "")
                    final = [self._bind_volume(a, vols, i) for a in args]
                    env_file = self.write_env_file(sec_base, f"{i}-{c['name']}", env)
                    labels = [f"{LABEL}.spinner={spinner}", f"{LABEL}.version={version or ''}",
                              f"{LABEL}.release={release}", f"{LABEL}.instance={i}",
                              f"{LABEL}.container={c['name']}", f"{LABEL}.state={digest}",
                              f"{LABEL}.home={self.home.root}"]
                    cmd = ["run", "-d", "--name", name, "--env-file", env_file]
                    for lab in labels:
                        cmd += ["--label", lab]
                    try:
                        created.append(name)
                        self.docker.run(cmd + final)
                    finally:
                        os.unlink(env_file)  # docker read it; values now live only in the engine
                    started.append((name, c))
                    say(f"    started {name}")
            why = self.wait_ready(started)
        except HostError as e:
            why = str(e)
        if why is not None:
            self.docker.remove(created, stop_timeout=2)
            self.home.remove_release(spinner, tag)
            return False, why

        # Ready: retire the old containers and their materialised files.
        say(f"    {len(started)} container(s) ready")
        olds = [c["Name"].lstrip("/") for c in old]
        self.docker.remove(olds)
        for rel in {c["Config"]["Labels"].get(f"{LABEL}.release") for c in old}:
            for c in old:
                if c["Config"]["Labels"].get(f"{LABEL}.release") == rel:
                    v = c["Config"]["Labels"].get(f"{LABEL}.version")
                    self.home.remove_release(spinner, f"v{v}-r{rel}" if v else f"r{rel}")
                    break
        if olds:
            say(f"    stopped {', '.join(olds)}")
        return True, ""

    @staticmethod
    def _bind_volume(arg: str, vols: Dict[str, Dict[str, Any]], instance: int) -> str:
        m = re.search(r"\{VOLUME:([a-z0-9-]+)\}", arg)
        if not m:
            return arg
        vol = vols[m.group(1)]
        name = vol["volumeId"] + (f"-{instance}" if vol.get("mode") == "dedicated" else "")
        return arg.replace(m.group(0), name)


# ----------------------------------------------------------------------------
# Commands
# ----------------------------------------------------------------------------


def current_number(store: "spr.Store", spinner: str) -> Optional[int]:
    try:
        vs = store.versions(spinner)
    except spr.NotFoundError:
        return None
    return vs[0].number if vs else None


def prepare_state(docker: Docker, spinner: str, state: Dict[str, Any], pin: bool) -> None:
    """Pin tags to local image IDs and bind missing volumeIds before recording,
    so that the version records exactly what runs and where data lives."""
    for ci, c in enumerate(state.get("containers") or []):
        img = c.get("image") or {}
        if pin and isinstance(img, dict) and img.get("reference") and not img.get("digest") \
                and "@" not in img["reference"]:
            info = docker.inspect("image", img["reference"])
            if info:
                img["digest"] = info["Id"]
                say(f"    pinned $.containers[{ci}].image {img['reference']} → {info['Id'][:19]}…")
    for i, v in enumerate(state.get("volumes") or []):
        if isinstance(v, dict) and v.get("name") and not v.get("volumeId"):
            v["volumeId"] = f"{spinner}-{v['name']}"
            say(f"    bound $.volumes[{i}] {v['name']} → Docker volume {v['volumeId']}")


def finish_rollout(store: "spr.Store", app: Applier, spinner: str, state: Dict[str, Any],
                   version: Optional[int], key: bytes, report: bool) -> int:
    step(f"applying {'v' + str(version) if version else 'state (unversioned)'} to Docker")
    try:
        ok, why = app.apply(spinner, state, version, key)
    except HostError as e:  # nothing of the new release is left running
        ok, why = False, str(e)
    if ok:
        if report and version:
            store.set_status(spinner, version, "active")
        if why:
            say(f"    {why}")
        step(f"{spinner} v{version} is active" if version else f"{spinner} deployed")
        return 0
    if report and version:
        store.set_status(spinner, version, "failed")
    say(f"error: rollout failed: {why}")
    say("    the new containers were removed; the previous containers keep running")
    if version:
        say(f"    v{version} is marked failed (`host.py rollback {spinner} N` restores an earlier version)")
    return EXIT_FAILED


def cmd_deploy(a: argparse.Namespace, home: Home, docker: Docker) -> int:
    try:
        with open(a.state, "rb") as f:
            state = json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError) as e:
        raise HostError(f"cannot read {a.state}: {e}", EXIT_REFUSED) from None
    if not isinstance(state, dict):
        raise HostError(f"{a.state}: the state must be a JSON object", EXIT_REFUSED)
    key = home.key()
    app = Applier(home, docker, a.tools_image, a.timeout)
    with home.lock(a.spinner), home.open_store() as store:
        prepare_state(docker, a.spinner, state, not a.no_pin)
        # Refuse before recording anything when an image is not here to run.
        for ci, c in enumerate(state.get("containers") or []):
            if isinstance(c, dict) and isinstance(c.get("image"), dict) and c["image"].get("reference"):
                try:
                    resolve_image(docker, c["image"], f"$.containers[{ci}].image", quiet=True)
                except HostError as e:
                    raise HostError(f"{e}; nothing recorded") from None
        try:
            res = store.record(a.spinner, state, author=a.author, message=a.message, request_id=a.request_id)
        except spr.SpinnerRollbackError as e:
            raise lib_error(e) from None
        version = None
        if res.outcome == "created":
            version = res.version.number
            step(f"recorded v{version}: {res.version.summary or 'first version'}")
        elif res.outcome == "unchanged":
            version = current_number(store, a.spinner)
            step(f"unchanged: tracked content equals v{version} (no new version)")
        else:
            step("rollback is disabled for this spinner: no version recorded")
        return finish_rollout(store, app, a.spinner, state, version, key, report=res.outcome == "created")


def parse_data(items: Sequence[str]) -> Dict[str, Any]:
    data: Dict[str, Any] = {}
    for item in items or []:
        vol, sep, src = item.partition("=")
        if not sep or not vol:
            raise HostError(f"--data {item!r}: expected VOLUME=current or VOLUME=snapshot:ID", EXIT_REFUSED)
        if src == "current":
            data[vol] = "current"
        elif src.startswith("snapshot:") and len(src) > 9:
            data[vol] = {"snapshot": src[9:]}
        else:
            raise HostError(f"--data {item!r}: expected VOLUME=current or VOLUME=snapshot:ID", EXIT_REFUSED)
    return data


def print_plan(plan: "spr.Plan") -> None:
    step(f"plan {plan.plan_id}: {plan.spinner} v{plan.base_version} → state of v{plan.target_version}")
    say(f"    summary: {plan.summary or '(no tracked change)'}")
    for ch in plan.diff:
        if ch.kind == "added":
            arrow = f"+ {short(ch.to)}"
        elif ch.kind == "removed":
            arrow = f"- {short(ch.from_)}"
        elif isinstance(ch.from_, dict) and isinstance(ch.to, dict):
            keys = sorted(k for k in set(ch.from_) | set(ch.to) if ch.from_.get(k) != ch.to.get(k))
            arrow = "; ".join(f"{k}: {short(ch.from_.get(k), 40)} → {short(ch.to.get(k), 40)}" for k in keys)
        else:
            arrow = f"{short(ch.from_)} → {short(ch.to)}"
        say(f"      {ch.category:<13} {ch.path}: {arrow}")
    for v in plan.volumes:
        if v.source == "snapshot" and v.new_volume:
            nv = v.new_volume
            say(f"    volume {v.volume} ({', '.join(v.mounts)}): from snapshot {v.snapshot_id} → NEW volume "
                f"{nv.name}, {nv.size_bytes} bytes, ~{nv.estimated_monthly_cost:.4f} {nv.currency}/month")
        else:
            say(f"    volume {v.volume} ({', '.join(v.mounts)}): current data "
                f"({v.volume_id or v.raw.get('volumeId') or 'kept'})")
    for w in plan.warnings:
        say(f"    warning: {w}")
    new = [v.new_volume for v in plan.volumes if v.new_volume]
    if new:
        say(f"    extra storage: {len(new)} new volume(s), ~{plan.estimated_monthly_cost:.4f} "
            f"{new[0].currency}/month; the volumes in use now are kept, never deleted")
    for i, s in enumerate(plan.steps, 1):
        say(f"    step {i}: {s.get('action', '?')}: {s.get('description') or short(s, 100)}")


def find_snapshot(store: "spr.Store", snap_id: str) -> "spr.Snapshot":
    for s in store.snapshots(None):
        if s.id == snap_id:
            return s
    raise HostError(f"snapshot {snap_id} is not registered")


def verify_archive(path: str, expected: str) -> int:
    """Check the archive's sha256 and that every member stays inside the volume.
    Returns the archive's uncompressed content size."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    actual = "sha256:" + h.hexdigest()
    if not hmac.compare_digest(actual, expected):
        raise HostError(f"snapshot archive {path} fails its checksum: expected {expected}, got {actual}")
    size = 0
    with tarfile.open(path, "r:gz") as t:
        for m in t:
            n = m.name
            if n.startswith("/") or ".." in n.split("/") or m.isdev():
                raise HostError(f"snapshot archive {path} holds an unsafe member {n!r}")
            if m.issym() or m.islnk():
                if m.linkname.startswith("/") or ".." in m.linkname.split("/"):
                    # Links are restored as they were; refuse ones that would leave the volume.
                    raise HostError(f"snapshot archive {path} holds a link leaving the volume: {n!r}")
            size += m.size
    return size


def provision(store: "spr.Store", docker: Docker, tools: str, spinner: str, pv: "spr.PlanVolume") -> None:
    nv = pv.new_volume
    snap = find_snapshot(store, pv.snapshot_id)
    path = snap.metadata.get("path")
    checksum = snap.metadata.get("checksum")
    if not path or not checksum or not os.path.isfile(path):
        raise HostError(f"snapshot {snap.id}: archive missing (metadata path {path!r})")
    side = path + ".sha256"
    if os.path.exists(side):
        with open(side) as f:
            if "sha256:" + f.read().split()[0] != checksum:
                raise HostError(f"snapshot {snap.id}: {side} disagrees with the registered checksum")
    try:
        verify_archive(path, checksum)
    except HostError:
        # Stop offering a damaged snapshot: planners refuse snapshots that are not ready.
        meta = dict(snap.metadata, damaged=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        store.register_snapshot(spr.Snapshot(id=snap.id, volume=snap.volume, size_bytes=snap.size_bytes,
                                             created_at=snap.created_at, ready=False,
                                             storage_class=snap.storage_class, metadata=meta))
        say(f"    snapshot {snap.id} is damaged; re-registered with ready=false")
        raise
    say(f"    snapshot {snap.id}: checksum ok ({checksum[:19]}…)")
    info = docker.inspect("volume", nv.name)
    if info is not None:
        labels = info.get("Labels") or {}
        users = docker.out(["ps", "-a", "-q", "--filter", f"volume={nv.name}"])
        if labels.get(f"{LABEL}.snapshot") != snap.id or users:
            raise HostError(f"volume {nv.name} already exists and is not an unused restore of "
                            f"{snap.id}; refusing to touch it")
        say(f"    volume {nv.name} exists from an interrupted restore of {snap.id}; restoring it again")
        docker.run(["run", "--rm", "--network", "none", "--pull", "never",
                    "--mount", mount_arg(type="volume", src=nv.name, dst="/v"),
                    tools, "find", "/v", "-mindepth", "1", "-maxdepth", "1", "-exec", "rm", "-rf", "{}", "+"])
    else:
        docker.run(["volume", "create", "--label", f"{LABEL}.spinner={spinner}",
                    "--label", f"{LABEL}.snapshot={snap.id}",
                    "--label", f"{LABEL}.created-by=spr-docker-host", nv.name])
    d, f = os.path.split(path)
    docker.run(["run", "--rm", "--network", "none", "--pull", "never",
                "--mount", mount_arg(type="volume", src=nv.name, dst="/v"),
                "--mount", mount_arg(type="bind", src=d, dst="/in", readonly="true"),
                tools, "tar", "-xzf", f"/in/{f}", "-C", "/v"], timeout=3600)
    step(f"provisioned volume {nv.name} from snapshot {snap.id}")


def restore_point_data(store: "spr.Store", spinner: str, version: int) -> Dict[str, Any]:
    """Per volume of `version`, its newest ready snapshot taken while it was current."""
    data: Dict[str, Any] = {}
    for vol in store.restore_points(spinner, version).volumes:
        during = [p.snapshot for p in vol.snapshots if p.relation == "during" and p.snapshot.ready]
        if not during:
            raise HostError(f"--restore-point: no ready snapshot of volume {vol.volume!r} was taken while "
                            f"v{version} was current (see: restore-points {spinner} {version})", EXIT_REFUSED)
        data[vol.volume] = {"snapshot": during[0].id}
        say(f"    restore point of {vol.volume}: snapshot {during[0].id} taken at "
            f"{during[0].created_at.isoformat() if during[0].created_at else '?'}")
    return data


def cmd_restore_points(a: argparse.Namespace, home: Home, docker: Docker) -> int:
    with home.open_store() as store:
        rp = store.restore_points(a.spinner, a.version)
    if a.json:
        print(json.dumps(rp.raw, indent=2))
        return 0
    until = rp.current_until.isoformat() if rp.current_until else "now (current)"
    say(f"v{rp.number} of {rp.spinner} was current from {rp.current_from.isoformat() if rp.current_from else '?'} "
        f"until {until}")
    for vol in rp.volumes:
        say(f"volume {vol.volume} ({', '.join(vol.volume_ids) or 'no volumeId'}):")
        if not vol.snapshots:
            say("    no snapshots")
        for p in vol.snapshots:
            sn = p.snapshot
            say(f"    {p.relation:<7} {sn.id}  {sn.created_at.isoformat() if sn.created_at else '?'}  "
                f"{sn.size_bytes} B  {'ready' if sn.ready else 'NOT READY'}")
    return 0


def cmd_rollback(a: argparse.Namespace, home: Home, docker: Docker) -> int:
    data = parse_data(a.data)
    key = home.key()
    app = Applier(home, docker, a.tools_image, a.timeout)
    with home.lock(a.spinner), home.open_store() as store:
        try:
            if a.restore_point:
                data = {**restore_point_data(store, a.spinner, a.version), **data}  # --data wins
            plan = store.plan_rollback(a.spinner, a.version, data=data or None, scope=a.scope)
        except spr.SpinnerRollbackError as e:
            raise lib_error(e) from None
        print_plan(plan)
        if a.plan_only:
            return 0
        if plan.requires_confirmation and not a.confirm:
            say("refused: this rollback provisions new volumes (extra storage cost); "
                "re-run with --confirm to proceed")
            return EXIT_CONFIRM
        for pv in plan.volumes:
            if pv.new_volume:
                provision(store, docker, a.tools_image, a.spinner, pv)
        try:
            v = store.commit(plan, confirmed=a.confirm, author=a.author,
                             message=a.message or f"rollback to v{a.version}")
            step(f"committed v{v.number} (rollback of v{v.rollback_of}): {v.summary}")
            state = store.get(a.spinner, v.number, reveal_secrets=True).state
        except spr.SpinnerRollbackError as e:
            raise lib_error(e) from None
        return finish_rollout(store, app, a.spinner, state, v.number, key, report=True)


def cmd_snapshot(a: argparse.Namespace, home: Home, docker: Docker) -> int:
    with home.lock(a.spinner), home.open_store() as store:
        n = current_number(store, a.spinner)
        if n is None:
            raise HostError(f"spinner {a.spinner} has no version", EXIT_REFUSED)
        try:
            state = store.get(a.spinner, n).state
        except spr.SpinnerRollbackError as e:
            raise lib_error(e) from None
        vols = [v for v in state.get("volumes") or [] if a.volume in (v["name"], v.get("volumeId"))]
        if not vols:
            raise HostError(f"v{n} of {a.spinner} has no volume named {a.volume}", EXIT_REFUSED)
        vol = vols[0]
        if vol.get("mode") == "dedicated":
            raise HostError(f"volume {vol['name']} is dedicated (one per instance); this host "
                            "snapshots shared volumes only", EXIT_REFUSED)
        vid = vol["volumeId"]
        if docker.inspect("volume", vid) is None:
            raise HostError(f"Docker volume {vid} does not exist")
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        snap_id = f"{vid}-{stamp}-{pysecrets.token_hex(3)}"
        fname = f"{snap_id}.tar.gz"
        tmp = f".tmp-{fname}"
        users = [c["Name"].lstrip("/") for c in docker.containers(a.spinner) if c["State"].get("Running")
                 and any(m.get("Name") == vid for m in c.get("Mounts") or [])]
        paused: List[str] = []
        step(f"snapshotting volume {vol['name']} (Docker volume {vid})"
             + (f", pausing {', '.join(users)}" if users and not a.no_pause else ""))
        tmp_path = os.path.join(home.snap_dir, tmp)
        final = os.path.join(home.snap_dir, fname)
        try:
            if users and not a.no_pause:
                docker.run(["pause", *users])
                paused = users
            docker.run(["run", "--rm", "--network", "none", "--pull", "never",
                        "--mount", mount_arg(type="volume", src=vid, dst="/v", readonly="true"),
                        "--mount", mount_arg(type="bind", src=home.snap_dir, dst="/out"),
                        a.tools_image, "tar", "-czf", f"/out/{tmp}", "-C", "/v", "."], timeout=3600)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_path)
            raise
        finally:
            if paused:
                docker.run(["unpause", *paused], check=False)
        try:
            os.chmod(tmp_path, 0o600)
            h = hashlib.sha256()
            with open(tmp_path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            checksum = "sha256:" + h.hexdigest()
            size = verify_archive(tmp_path, checksum)
            with open(final + ".sha256", "w") as f:
                f.write(f"{h.hexdigest()}  {fname}\n")
            os.chmod(final + ".sha256", 0o600)
            os.replace(tmp_path, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_path)
            raise
        compressed = os.path.getsize(final)
        try:
            store.register_snapshot(snap_id, vid, size, ready=True,
                                    storage_class=vol.get("storageClass") or DEFAULT_STORAGE_CLASS,
                                    metadata={"path": final, "checksum": checksum, "format": "tar+gzip",
                                              "compressedBytes": compressed, "spinner": a.spinner,
                                              "volumeName": vol["name"], "version": n})
        except spr.SpinnerRollbackError as e:
            raise lib_error(e) from None
        step(f"snapshot {snap_id} registered")
        say(f"    volume {vid}, {size} bytes of data ({compressed} compressed), {checksum}")
        say(f"    archive {final}")
        say(snap_id)
        return 0


def cmd_status(a: argparse.Namespace, home: Home, docker: Docker) -> int:
    with home.open_store() as store:
        try:
            versions = store.versions(a.spinner)
        except spr.NotFoundError:
            versions = []
        except spr.SpinnerRollbackError as e:
            raise lib_error(e) from None
        state = store.get(a.spinner, versions[0].number).state if versions else {}
        vids = [v.get("volumeId") for v in state.get("volumes") or [] if v.get("volumeId")]
        snaps = [s for vid in vids for s in store.snapshots(vid)]
    containers = []
    for c in docker.containers(a.spinner):
        labels = c["Config"]["Labels"]
        ports = {k: int(b[0]["HostPort"]) for k, b in ((c.get("NetworkSettings") or {}).get("Ports") or {}).items()
                 if b and b[0].get("HostPort")}
        containers.append({"name": c["Name"].lstrip("/"), "version": int(labels[f"{LABEL}.version"])
                           if labels.get(f"{LABEL}.version") else None,
                           "release": int(labels.get(f"{LABEL}.release", 0)),
                           "instance": int(labels.get(f"{LABEL}.instance", 0)),
                           "state": c["State"].get("Status"), "image": c["Image"], "ports": ports,
                           "volumes": [m["Name"] for m in c.get("Mounts") or [] if m.get("Type") == "volume"]})
    containers.sort(key=lambda c: (c["instance"], c["name"]))
    if a.json:
        out = {"spinner": a.spinner,
               "versions": [{"number": v.number, "current": v.current, "status": v.status, "reason": v.reason,
                             "rollbackOf": v.rollback_of, "summary": v.summary, "author": v.author,
                             "createdAt": v.raw.get("createdAt")} for v in versions],
               "containers": containers,
               "snapshots": [{"id": s.id, "volume": s.volume, "sizeBytes": s.size_bytes, "ready": s.ready}
                             for s in snaps]}
        print(json.dumps(out, indent=2))
        return 0
    if not versions and not containers:
        say(f"{a.spinner}: unknown (no versions, no containers)")
        return 0
    say(f"{a.spinner}: versions (newest first)")
    for v in versions:
        mark = "*" if v.current else " "
        rb = f" rollback of v{v.rollback_of}" if v.rollback_of else ""
        say(f"  {mark} v{v.number:<4} {v.status:<10} {v.reason}{rb:<16} {v.raw.get('createdAt', '')}  "
            f"{v.author}  {v.summary}")
    say("containers:")
    for c in containers or []:
        ports = ", ".join(f"127.0.0.1:{p}->{k}" for k, p in c["ports"].items())
        ver = f"v{c['version']}" if c["version"] else "(unversioned)"
        say(f"    {c['name']:<28} {ver}  {c['state']:<8} {ports}  {' '.join(c['volumes'])}")
    if not containers:
        say("    (none)")
    if snaps:
        say("snapshots:")
        for s in snaps:
            say(f"    {s.id}  volume {s.volume}  {s.size_bytes} bytes  ready={s.ready}")
    return 0


# ----------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="host.py", description="Docker host for spinner_rollback.")
    p.add_argument("--home", default=os.environ.get("SPR_DOCKER_HOME")
                   or os.path.expanduser("~/.local/state/spr-docker-host"),
                   help="host state directory (store, key, files, snapshots)")
    p.add_argument("--tools-image", default=os.environ.get("SPR_TOOLS_IMAGE", DEFAULT_TOOLS_IMAGE),
                   help="busybox image used for volume snapshots and restores")
    p.add_argument("--author", default=os.environ.get("USER") or "host", help="recorded author")
    sub = p.add_subparsers(dest="cmd", required=True)

    d = sub.add_parser("deploy", help="record a state and apply it")
    d.add_argument("spinner")
    d.add_argument("state", help="state document (JSON file)")
    d.add_argument("-m", "--message")
    d.add_argument("--request-id")
    d.add_argument("--timeout", type=float, default=60, help="readiness timeout, seconds")
    d.add_argument("--no-pin", action="store_true", help="do not pin image tags to local image IDs")

    r = sub.add_parser("rollback", help="plan, commit and apply a rollback")
    r.add_argument("spinner")
    r.add_argument("version", type=int)
    r.add_argument("--data", action="append", default=[], metavar="VOL=current|snapshot:ID")
    r.add_argument("--scope", choices=["tracked", "all"])
    r.add_argument("--restore-point", action="store_true",
                   help="bring each volume's data back from the newest snapshot taken while that version "
                        "was current (into a new volume; the one in use is kept)")
    r.add_argument("--confirm", action="store_true", help="accept the plan's extra cost")
    r.add_argument("--plan-only", action="store_true", help="print the plan and stop")
    r.add_argument("-m", "--message")
    r.add_argument("--timeout", type=float, default=60)

    s = sub.add_parser("snapshot", help="snapshot a spinner's volume and register it")
    s.add_argument("spinner")
    s.add_argument("volume", help="the volume's name in the state (or its volumeId)")
    s.add_argument("--no-pause", action="store_true", help="do not pause the containers using it")

    rp = sub.add_parser("restore-points", help="which snapshots hold a version's data")
    rp.add_argument("spinner")
    rp.add_argument("version", type=int)
    rp.add_argument("--json", action="store_true")

    st = sub.add_parser("status", help="versions, containers and snapshots")
    st.add_argument("spinner")
    st.add_argument("--json", action="store_true")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `host.py status X | head` ends quietly
    a = parser().parse_args(argv)
    try:
        home = Home(a.home)
        docker = Docker()
        return {"deploy": cmd_deploy, "rollback": cmd_rollback, "snapshot": cmd_snapshot,
                "restore-points": cmd_restore_points, "status": cmd_status}[a.cmd](a, home, docker)
    except HostError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except spr.SpinnerRollbackError as e:
        print(f"error: {lib_error(e)}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
