#!/usr/bin/env python3
"""End-to-end test of the Docker example host against a real Docker engine.

Run through e2e_test.sh (which builds the images). Needs: the env
SPR_LIBRARY, a Python with spinner_rollback installed (this interpreter),
the images $APP_IMAGE:1, $APP_IMAGE:2 and $TOOLS_IMAGE.

Every check fails the run with a message saying what was expected. The test
removes the containers it made and, at the end, only its own volumes (named
after its random spinner name "sprtest-…"). KEEP=1 keeps everything.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from typing import Any, Dict, List, Optional, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = os.path.join(HERE, "host.py")
APP = os.environ.get("APP_IMAGE", "sprtest-testapp")
TOOLS = os.environ.get("TOOLS_IMAGE", "spr-host-tools:1")
SPINNER = f"sprtest-{uuid.uuid4().hex[:6]}"
VOLUME_ID = f"{SPINNER}-data"
SECRET = f"pw-{uuid.uuid4().hex}"  # must never appear in the host's output
HOME = tempfile.mkdtemp(prefix="spr-docker-e2e-")
OUTPUTS: List[str] = []
TIMINGS: List[tuple] = []


class Failed(Exception):
    pass


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise Failed(msg)


def docker(*args: str, check_rc: bool = True) -> str:
    p = subprocess.run(["docker", *args], capture_output=True, text=True)
    if check_rc and p.returncode != 0:
        raise Failed(f"docker {' '.join(args)} failed: {p.stderr.strip()}")
    return p.stdout.strip()


def host(*args: str, expect: int = 0) -> str:
    cmd = [sys.executable, HOST, "--home", HOME, "--tools-image", TOOLS, "--author", "e2e", *args]
    p = subprocess.run(cmd, capture_output=True, text=True)
    out = p.stdout + p.stderr
    OUTPUTS.append(out)
    if p.returncode != expect:
        raise Failed(f"host.py {' '.join(args)} exited {p.returncode}, expected {expect}:\n{out}")
    return out


def status() -> Dict[str, Any]:
    return json.loads(host("status", SPINNER, "--json"))


def http(port: int, path: str, data: Optional[bytes] = None) -> Any:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                 method="POST" if data is not None else "GET")
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def ports() -> List[int]:
    st = status()
    cs = [c for c in st["containers"] if c["state"] == "running"]
    check(bool(cs), f"no running container for {SPINNER}: {st['containers']}")
    return [c["ports"]["8080/tcp"] for c in cs]


def image_id(tag: str) -> str:
    return docker("image", "inspect", "--format", "{{.Id}}", tag)


def state(*, env_color: str, cfg_color: str, tag: str, digest: str, extra_env: Sequence[Dict] = ()) -> Dict:
    return {
        "schemaVersion": 1,
        "settings": {"description": "e2e test spinner"},
        "instances": 2,
        "containers": [{
            "name": "web",
            "image": {"reference": f"{APP}:{tag}", "digest": digest},
            "codeVersion": tag,
            "env": [{"name": "COLOR", "value": env_color},
                    {"name": "DB_PASSWORD", "secretRef": {"name": "db", "key": "password"}},
                    {"name": "CONFIG_COLOR", "configMapRef": {"name": "app", "key": "color"}},
                    *extra_env],
            "ports": [{"name": "http", "containerPort": 8080, "expose": True}],
            "resources": {"cpu": "250m", "memory": "64Mi"},
            "securityContext": {"runAsUser": 1000, "runAsNonRoot": True, "readOnlyRootFilesystem": True,
                                "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            "mounts": [{"path": "/etc/app", "configMap": "app"},
                       {"path": "/run/secrets/db", "secret": "db"},
                       {"path": "/data", "volume": "data"}],
            "probes": {"readiness": {"httpGet": {"path": "/healthz", "port": "http"}}},
        }],
        "volumes": [{"name": "data", "mode": "shared", "size": "16Mi", "storageClass": "local",
                     "volumeId": VOLUME_ID}],
        "configMaps": {"app": {"color": cfg_color}},
        "secrets": {"db": {"password": SECRET}},
        "labels": {"app": "e2e"},
    }


def deploy(st: Dict, expect: int = 0, *extra: str) -> str:
    path = os.path.join(HOME, f"state-{uuid.uuid4().hex[:8]}.json")
    with open(path, "w") as f:
        json.dump(st, f)
    return host("deploy", SPINNER, path, *extra, expect=expect)


def current() -> Dict[str, Any]:
    return status()["versions"][0]


def all_instances(path: str) -> List[Any]:
    return [http(p, path) for p in ports()]


def expect_serving(env_color: str, cfg_color: str, version: str) -> None:
    for i, (env, cfg, ver) in enumerate(zip(all_instances("/env"), all_instances("/config"),
                                            all_instances("/version"))):
        check(env.get("COLOR") == env_color, f"instance {i}: env COLOR={env.get('COLOR')!r}, expected {env_color!r}")
        check(cfg.get("color") == cfg_color, f"instance {i}: /etc/app/color={cfg.get('color')!r}, expected {cfg_color!r}")
        check(env.get("CONFIG_COLOR") == cfg_color,
              f"instance {i}: env CONFIG_COLOR (configMapRef)={env.get('CONFIG_COLOR')!r}, expected {cfg_color!r}")
        check(ver.get("version") == version, f"instance {i}: app version {ver.get('version')!r}, expected {version!r}")


def volume_file(volume: str, name: str) -> Optional[str]:
    """A file's content in a Docker volume, read with the tools image (None if absent)."""
    check(docker("volume", "ls", "-q", "--filter", f"name=^{volume}$") == volume, f"volume {volume} does not exist")
    p = subprocess.run(["docker", "run", "--rm", "--network", "none",
                        "--mount", f"type=volume,src={volume},dst=/v,readonly", TOOLS, "cat", f"/v/{name}"],
                       capture_output=True, text=True)
    return p.stdout if p.returncode == 0 else None


def running_images() -> List[str]:
    return sorted({c["image"] for c in status()["containers"] if c["state"] == "running"})


def timed(name: str):
    def wrap(fn):
        t0 = time.monotonic()
        print(f"--- {name}", flush=True)
        fn()
        dt = time.monotonic() - t0
        TIMINGS.append((name, dt))
        print(f"    ok ({dt:.1f}s)", flush=True)
        return fn
    return wrap


def main() -> int:
    id1, id2 = image_id(f"{APP}:1"), image_id(f"{APP}:2")
    check(id1 != id2, "the two test images must differ")
    print(f"spinner {SPINNER}, home {HOME}\nimage 1 {id1}\nimage 2 {id2}")
    v: Dict[str, int] = {}

    @timed("deploy v1: env COLOR=blue, config color=blue, a secret, 2 instances")
    def _():
        out = deploy(state(env_color="blue", cfg_color="blue", tag="1", digest=id1))
        check("recorded v1" in out, f"expected v1 to be recorded:\n{out}")
        v["blue"] = current()["number"]
        check(current()["status"] == "active", f"v1 status {current()['status']}, expected active")
        expect_serving("blue", "blue", "1")
        names = sorted(c["name"] for c in status()["containers"])
        check(names == [f"{SPINNER}-v1-0", f"{SPINNER}-v1-1"], f"container names {names}")
        import hashlib
        want = "sha256:" + hashlib.sha256(SECRET.encode()).hexdigest()
        for s in all_instances("/secrets"):
            check(s.get("db/password") == want, f"secret file not readable or wrong in container: {s}")
        info = json.loads(docker("container", "inspect", f"{SPINNER}-v1-0"))[0]
        hc = info["HostConfig"]
        check(info["Config"]["User"] == "1000", f"user {info['Config']['User']!r}, expected 1000")
        check(hc["ReadonlyRootfs"] is True, "root filesystem should be read-only")
        check(hc["CapDrop"] == ["ALL"], f"CapDrop {hc['CapDrop']}")
        check("no-new-privileges" in (hc.get("SecurityOpt") or []), f"SecurityOpt {hc.get('SecurityOpt')}")
        check(hc["NanoCpus"] == 250_000_000, f"NanoCpus {hc['NanoCpus']}, expected 0.25 CPU")
        check(hc["Memory"] == 64 * 2**20, f"Memory {hc['Memory']}, expected 64Mi")
        binds = hc["PortBindings"]["8080/tcp"]
        check(all(b["HostIp"] == "127.0.0.1" for b in binds), f"ports must be published to 127.0.0.1: {binds}")
        check(info["Image"] == id1, f"running image {info['Image']}, expected {id1}")
        check(SECRET not in " ".join(info["Args"] + [info["Path"]]), "secret on the container command line")
        # secret files: 0400, owned by the container user, under 0700 parents
        sec_root = os.path.join(HOME, "secrets", SPINNER)
        files = [os.path.join(d, f) for d, _, fs in os.walk(sec_root) for f in fs]
        check(len(files) == 1 and files[0].endswith("/db/password"), f"secret files {files}")
        st = os.stat(files[0])
        check(stat.S_IMODE(st.st_mode) == 0o400 and st.st_uid == 1000,
              f"secret file mode {oct(stat.S_IMODE(st.st_mode))} uid {st.st_uid}, expected 0400 uid 1000")
        check(stat.S_IMODE(os.stat(os.path.join(HOME, "secrets")).st_mode) == 0o700, "secrets dir must be 0700")

    @timed("deploy v2: env COLOR=green")
    def _():
        out = deploy(state(env_color="green", cfg_color="blue", tag="1", digest=id1))
        check("recorded v2: env ~COLOR" in out, f"expected v2 recorded for the env change:\n{out}")
        expect_serving("green", "blue", "1")
        names = sorted(c["name"] for c in status()["containers"])
        check(names == [f"{SPINNER}-v2-0", f"{SPINNER}-v2-1"], f"old containers not retired: {names}")
        check(not os.path.exists(os.path.join(HOME, "secrets", SPINNER, "v1-r1")),
              "v1's secret files should be removed once v1's containers are gone")

    @timed("deploy v3: config color=green")
    def _():
        out = deploy(state(env_color="green", cfg_color="green", tag="1", digest=id1))
        check("recorded v3" in out, f"expected v3 recorded for the config change:\n{out}")
        v["green"] = current()["number"]
        expect_serving("green", "green", "1")

    @timed("snapshot the data volume while v3 is current (its restore point)")
    def _():
        p = ports()[0]
        http(p, "/data/v3.txt", b"written while v3 was current")
        v["v3_snapshot"] = host("snapshot", SPINNER, "data").strip().splitlines()[-1]  # type: ignore[assignment]
        http(p, "/data/v3.txt", b"overwritten later")

    @timed("redeploy v3 unchanged: no version, nothing restarted")
    def _():
        before = sorted(c["name"] for c in status()["containers"])
        out = deploy(state(env_color="green", cfg_color="green", tag="1", digest=id1))
        check("unchanged" in out and "nothing to do" in out, f"expected unchanged/nothing to do:\n{out}")
        check(current()["number"] == 3, f"current version {current()['number']}, expected 3")
        check(sorted(c["name"] for c in status()["containers"]) == before, "containers changed")

    @timed("rollback to v1: env AND config back to blue")
    def _():
        out = host("rollback", SPINNER, "1")
        check("env" in out and "configValues" in out, f"plan should show env and config changes:\n{out}")
        cur = current()
        check(cur["number"] == 4 and cur["rollbackOf"] == 1 and cur["status"] == "active",
              f"expected v4 = active rollback of v1, got {cur}")
        expect_serving("blue", "blue", "1")

    @timed("deploy v5: image 2")
    def _():
        deploy(state(env_color="blue", cfg_color="blue", tag="2", digest=id2))
        expect_serving("blue", "blue", "2")
        v["img2"] = current()["number"]

    @timed("move tag 1 to image 2, roll back to v1: still the original image 1")
    def _():
        docker("tag", id2, f"{APP}:1")
        check(image_id(f"{APP}:1") == id2, "retag failed")
        out = host("rollback", SPINNER, "1")
        check("now points at" in out, f"expected a warning that the tag moved:\n{out}")
        check(running_images() == [id1], f"running {running_images()}, expected original {id1}")
        expect_serving("blue", "blue", "1")
        v["img1"] = current()["number"]

    snap: Dict[str, str] = {}

    @timed("write data, snapshot, write more")
    def _():
        p = ports()[0]
        http(p, "/data/note.txt", b"before")
        out = host("snapshot", SPINNER, "data")
        snap["id"] = out.strip().splitlines()[-1]
        check(snap["id"].startswith(VOLUME_ID + "-"), f"unexpected snapshot id {snap['id']!r}")
        sn = [s for s in status()["snapshots"] if s["id"] == snap["id"]]
        check(len(sn) == 1 and sn[0]["ready"] and sn[0]["volume"] == VOLUME_ID, f"snapshot not registered: {sn}")
        arch = os.path.join(HOME, "snapshots", snap["id"] + ".tar.gz")
        check(os.path.isfile(arch) and os.path.isfile(arch + ".sha256"), "archive or checksum file missing")
        http(p, "/data/note.txt", b"after")
        http(p, "/data/new.txt", b"written after the snapshot")
        check(http(ports()[1], "/data").get("note.txt") == "after", "instances should share the volume")

    @timed("rollback to v5 with data from the snapshot: refused without --confirm")
    def _():
        before = status()
        out = host("rollback", SPINNER, str(v["img2"]), "--data", f"data=snapshot:{snap['id']}", expect=3)
        check("--confirm" in out and "NEW volume" in out and "/month" in out,
              f"the plan should show the new volume and its cost and ask for --confirm:\n{out}")
        after = status()
        check(after["versions"] == before["versions"], "versions changed although not confirmed")
        check(docker("volume", "ls", "-q", "--filter", f"name={SPINNER}-data-v") == "",
              "a volume was provisioned although not confirmed")

    @timed("rollback to v5 with data from the snapshot --confirm: old data served, old volume kept")
    def _():
        host("rollback", SPINNER, str(v["img2"]), "--data", f"data=snapshot:{snap['id']}", "--confirm")
        cur = current()
        new_vol = f"{SPINNER}-data-v{cur['number']}"
        vols = {vol for c in status()["containers"] for vol in c["volumes"]}
        check(vols == {new_vol}, f"containers mount {vols}, expected the new volume {new_vol}")
        for d in all_instances("/data"):
            check(d == {"note.txt": "before", "v3.txt": "overwritten later"}, f"app serves {d}, expected the snapshot's data")
        expect_serving("blue", "blue", "2")
        check(volume_file(VOLUME_ID, "note.txt") == "after", "the previous volume lost its newer data")
        check(volume_file(VOLUME_ID, "new.txt") == "written after the snapshot", "previous volume lost new.txt")
        v["restored_volume"] = new_vol  # type: ignore[assignment]

    @timed("rollback to v1's image with data=current: data untouched")
    def _():
        vols_before = docker("volume", "ls", "-q", "--filter", f"name={SPINNER}")
        host("rollback", SPINNER, str(v["img1"]), "--data", "data=current")
        for d in all_instances("/data"):
            check(d == {"note.txt": "before", "v3.txt": "overwritten later"}, f"app serves {d}, expected the restored volume's data unchanged")
        vols = {vol for c in status()["containers"] for vol in c["volumes"]}
        check(vols == {v["restored_volume"]}, f"containers mount {vols}, expected {v['restored_volume']}")
        check(docker("volume", "ls", "-q", "--filter", f"name={SPINNER}") == vols_before, "volumes changed")
        check(running_images() == [id1], f"running {running_images()}, expected {id1}")

    @timed("failed rollout (readiness fails): new containers removed, old kept, version failed")
    def _():
        before = sorted(c["name"] for c in status()["containers"])
        st = state(env_color="blue", cfg_color="blue", tag="1", digest=id1,
                   extra_env=[{"name": "FAIL_HEALTH", "value": "1"}])
        st["volumes"][0]["volumeId"] = v["restored_volume"]
        out = deploy(st, 1, "--timeout", "4")
        check("rollout failed" in out, f"expected a rollout failure:\n{out}")
        cur = current()
        check(cur["status"] == "failed", f"v{cur['number']} status {cur['status']}, expected failed")
        check(sorted(c["name"] for c in status()["containers"]) == before, "old containers should keep running")
        expect_serving("blue", "blue", "1")

    @timed("refusals: rollback to the current version; unknown snapshot")
    def _():
        cur = current()["number"]
        out = host("rollback", SPINNER, str(cur), expect=2)
        check("SPR_E_CURRENT_VERSION" in out, f"expected SPR_E_CURRENT_VERSION:\n{out}")
        out = host("rollback", SPINNER, "1", "--data", "data=snapshot:nope", expect=2)
        check("SPR_E_NOT_FOUND" in out and "request.data" in out, f"expected SPR_E_NOT_FOUND with a path:\n{out}")

    @timed("a damaged snapshot archive is refused and marked not ready")
    def _():
        sid = host("snapshot", SPINNER, "data").strip().splitlines()[-1]
        with open(os.path.join(HOME, "snapshots", sid + ".tar.gz"), "ab") as f:
            f.write(b"tampered")
        before = status()["versions"]
        vols = docker("volume", "ls", "-q", "--filter", f"name={SPINNER}")
        out = host("rollback", SPINNER, "1", "--data", f"data=snapshot:{sid}", "--confirm", expect=1)
        check("fails its checksum" in out, f"expected a checksum failure:\n{out}")
        check(status()["versions"] == before, "a version was committed from a damaged snapshot")
        check(docker("volume", "ls", "-q", "--filter", f"name={SPINNER}") == vols, "a volume was created")
        out = host("rollback", SPINNER, "1", "--data", f"data=snapshot:{sid}", "--confirm", expect=2)
        check("SPR_E_SNAPSHOT_NOT_READY" in out, f"expected SPR_E_SNAPSHOT_NOT_READY on retry:\n{out}")

    @timed("roll back to v3 with its restore point: v3's data in a new volume, the volume in use kept")
    def _():
        rp = json.loads(host("restore-points", SPINNER, str(v["green"]), "--json"))
        first = rp["volumes"][0]["snapshots"][0]
        check(first["id"] == v["v3_snapshot"] and first["relation"] == "during",
              f"v3's restore point should come first, as 'during': {rp['volumes'][0]['snapshots']}")
        check(rp["currentUntil"] is not None, "v3 was replaced: currentUntil must be set")
        in_use = {vol for c in status()["containers"] for vol in c["volumes"]}
        kept = {vol: volume_file(vol, "note.txt") for vol in in_use}
        out = host("rollback", SPINNER, str(v["green"]), "--restore-point", "--confirm")
        check(f"restore point of data: snapshot {v['v3_snapshot']}" in out, f"expected the restore point:\n{out}")
        check("not in the new volume" in out, f"the plan should warn about data written since:\n{out}")
        cur = current()
        check(cur["rollbackOf"] == v["green"] and cur["status"] == "active", f"expected an active rollback of v3: {cur}")
        new_vol = f"{SPINNER}-data-v{cur['number']}"
        vols = {vol for c in status()["containers"] for vol in c["volumes"]}
        check(vols == {new_vol}, f"containers mount {vols}, expected the new volume {new_vol}")
        for d in all_instances("/data"):
            check(d == {"v3.txt": "written while v3 was current"}, f"app serves {d}, expected v3's data")
        expect_serving("green", "green", "1")
        for vol, note in kept.items():
            check(volume_file(vol, "note.txt") == note, f"the volume in use before ({vol}) lost its data")

    @timed("the secret never appeared in the host's output")
    def _():
        check(not any(SECRET in o for o in OUTPUTS), "the secret value appeared in host.py output")
        print(host("status", SPINNER))
    return 0


def cleanup() -> None:
    if os.environ.get("KEEP") == "1":
        print(f"KEEP=1: leaving containers, volumes {SPINNER}-* and {HOME}")
        return
    ids = docker("ps", "-aq", "--filter", f"label=io.spinner-rollback.spinner={SPINNER}", check_rc=False).split()
    if ids:
        docker("rm", "-f", *ids, check_rc=False)
    for vol in docker("volume", "ls", "-q", "--filter", f"name={SPINNER}", check_rc=False).split():
        if vol.startswith(SPINNER + "-"):  # only this run's own volumes
            docker("volume", "rm", vol, check_rc=False)
    subprocess.run(["rm", "-rf", HOME], check=False)


if __name__ == "__main__":
    t0 = time.monotonic()
    rc = 1
    try:
        rc = main()
    except Failed as e:
        print(f"\nE2E FAILED: {e}", file=sys.stderr)
    finally:
        cleanup()
    print("\ntimings:")
    for name, dt in TIMINGS:
        print(f"  {dt:6.1f}s  {name}")
    print(f"  {time.monotonic() - t0:6.1f}s  total ({'PASS' if rc == 0 else 'FAIL'})")
    sys.exit(rc)
