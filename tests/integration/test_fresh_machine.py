"""The labs on a machine where libvirt never ran: every lab makes each directory, user and file it needs.

The set-up of the QEMU lab and of the fleet lab each runs once in a private mount namespace of its own
(so neither finds what the other made) where /var/cache,
/var/lib, /run and /etc are overlays with libvirt's state directories, the `libvirt-qemu` user and the
`kvm`/`libvirt-qemu` groups deleted, and with an empty lab cache (so the kernel is fetched again). It
must come up and serve `xentui list`, then go down. Nothing it does reaches the real directories.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]

# Overlays (upper layers on a tmpfs) over the real directories, then the state removed in them.
FRESH = r"""
set -e
mount --make-rprivate /
scratch=$1; shift
mount -t tmpfs tmpfs "$scratch"
for d in /var/cache /var/lib /var/log /run /etc; do
    n=$(echo "$d" | tr / _)
    mkdir -p "$scratch/$n/upper" "$scratch/$n/work"
    mount -t overlay overlay -o "lowerdir=$d,upperdir=$scratch/$n/upper,workdir=$scratch/$n/work" "$d"
done
rm -rf /var/cache/libvirt /var/lib/libvirt /run/libvirt /run/sshd /var/log/libvirt
# The QEMU driver keeps defined guests in /etc/libvirt/qemu: the suite's own lab may have its guests defined
# there right now (same names); a fresh machine has none.
rm -f /etc/libvirt/qemu/*.xml
# -f: a guest of the suite's own QEMU lab may be running as that user (/etc is an overlay here)
if getent passwd libvirt-qemu >/dev/null; then userdel -f libvirt-qemu; fi
for g in libvirt-qemu kvm; do if getent group "$g" >/dev/null; then groupdel "$g"; fi; done
for p in /var/cache/libvirt /var/lib/libvirt /run/libvirt; do test ! -e "$p"; done
! getent passwd libvirt-qemu >/dev/null
exec "$@"
"""

# Inside the namespace: the lab up, xentui reads it, the lab down whatever happened.
UP_LIST_DOWN = {
    "qemu": r"""
from lab.qemu_lab import QemuLab
lab = QemuLab()
try:
    print(json.dumps(names(lab.up())))
finally:
    lab.down()
""",
    "fleet": r"""
from lab.fleet_lab import FleetLab
lab = FleetLab()
try:
    d = lab.add_daemon("fresh", guests=2)
    lab.start_sshd()
    print(json.dumps(names(lab.ssh_uri("test", str(d.node), d.socket_path))))
finally:
    lab.down()
""",
}
LIST = r"""
import json, subprocess, sys

def names(uri):
    done = subprocess.run([sys.executable, "-m", "xentui", "-c", uri, "list"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return sorted(line.split()[0] for line in done.stdout.splitlines()[1:])
"""
EXPECTED = {
    "qemu": ["xentui-lab-off", "xentui-lab-paused", "xentui-lab-run"],
    "fleet": ["fresh-g0", "fresh-g1"],
}


@pytest.mark.parametrize("which", sorted(UP_LIST_DOWN))
def test_lab_comes_up_with_its_state_absent(which: str, tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("qemu-system-x86_64") is None:
        if os.environ.get("CI"):
            pytest.fail("the fresh-machine check needs root, unshare and QEMU (scripts/setup.sh test)")
        pytest.skip("needs root, unshare and QEMU")
    scratch = tmp_path / "overlays"
    scratch.mkdir()
    cache = tmp_path / "lab-cache"  # empty: the kernel and the sshd host key are made again
    env = {**os.environ, "XENTUI_LAB_CACHE": str(cache), "PYTHONPATH": str(REPO)}
    argv = [
        "unshare",
        "--mount",
        "sh",
        "-c",
        FRESH,
        "sh",
        str(scratch),
        sys.executable,
        "-c",
        LIST + UP_LIST_DOWN[which],
    ]
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == EXPECTED[which]
    if which == "qemu":
        assert any(cache.glob("vmlinuz-*")), "the kernel was not fetched into the empty cache"
