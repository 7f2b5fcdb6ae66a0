"""Guest boot files for the labs, cached outside git: a Debian kernel and a busybox initramfs.

The initramfs's init loops on the console (ttyS0, or `lab_tty=hvc0` for Xen PV and PVH guests): print
a banner, run a shell (`exit` shows the banner again). Everything is rebuilt only when its inputs change.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

CACHE = Path(os.environ.get("XENTUI_LAB_CACHE", Path.home() / ".cache" / "xentui-lab"))
BANNER = "XENTUI-LAB-GUEST ready"
INIT = f"""#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox --install -s /bin
export PATH=/bin PS1='lab# '
tty=ttyS0  # lab_tty=hvc0 on the kernel command line for Xen PV and PVH guests
for arg in $(cat /proc/cmdline); do case "$arg" in lab_tty=*) tty=${{arg#lab_tty=}};; esac; done
while true; do
    echo "{BANNER}" > /dev/$tty
    setsid sh -c "exec sh -i </dev/$tty >/dev/$tty 2>&1"
done
"""


class LabUnavailable(Exception):
    """This machine cannot run the lab (no QEMU, no kernel package reachable...)."""


def _run(argv: list[str], cwd: Path | None = None) -> str:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LabUnavailable(f"{' '.join(argv)}: {done.stderr.strip() or done.returncode}")
    return done.stdout


def kernel() -> Path:
    """vmlinuz of the newest Debian linux-image-*-amd64 that apt knows, downloaded once."""
    found = sorted(glob.glob(str(CACHE / "vmlinuz-*")))
    if found:
        return Path(found[-1])
    CACHE.mkdir(parents=True, exist_ok=True)
    deps = _run(["apt-cache", "depends", "linux-image-amd64"])
    pkg = next((ln.split()[-1] for ln in deps.splitlines() if "Depends: linux-image-" in ln), None)
    if pkg is None:
        raise LabUnavailable("apt knows no linux-image-amd64 (run apt-get update)")
    debs = sorted(CACHE.glob(f"{pkg}_*.deb"))
    if not debs:
        _run(["apt-get", "download", "-q", pkg], cwd=CACHE)
        debs = sorted(CACHE.glob(f"{pkg}_*.deb"))
    data = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(debs[-1])], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith("./boot/vmlinuz-"))
        target = CACHE / Path(member.name).name
        src = tar.extractfile(member)
        assert src is not None
        target.write_bytes(src.read())
    for deb in debs:
        deb.unlink()  # 70 MB we no longer need
    return target


def _cpio_newc(entries: list[tuple[str, int, bytes]]) -> bytes:
    """A gzip-able cpio archive in the kernel's "newc" format: (path, mode, data) entries."""
    out = io.BytesIO()
    for ino, (name, mode, data) in enumerate([*entries, ("TRAILER!!!", 0, b"")], start=1):
        encoded = name.encode() + b"\0"
        header = "070701" + "".join(f"{v:08x}" for v in (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0))
        out.write(header.encode() + encoded)
        out.write(b"\0" * (-(110 + len(encoded)) % 4))
        out.write(data)
        out.write(b"\0" * (-len(data) % 4))
    return out.getvalue()


def initramfs() -> Path:
    busybox = shutil.which("busybox") or "/bin/busybox"
    if not os.path.exists(busybox):
        raise LabUnavailable("busybox is not installed (Debian package busybox-static)")
    data = Path(busybox).read_bytes()
    digest = hashlib.sha256(data + INIT.encode()).hexdigest()[:16]
    target = CACHE / f"initrd-{digest}.gz"
    if target.exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    entries = [
        ("bin", 0o40755, b""),
        ("dev", 0o40755, b""),
        ("bin/busybox", 0o100755, data),
        ("bin/sh", 0o120777, b"busybox"),
        ("init", 0o100755, INIT.encode()),
    ]
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(gzip.compress(_cpio_newc(entries), compresslevel=6))
    tmp.replace(target)
    return target
