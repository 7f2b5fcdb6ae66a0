"""The Xen lab's boot files, cached outside git: the hypervisor, the dom0 kernel, and dom0's root.

The lab comes in flavours, a Debian release with its own Xen (`FLAVOURS`). dom0's root is two gzip cpio
archives joined into one initramfs (the kernel unpacks them in turn):
- the base (`build-base.sh`: Debian with its Xen tools, QEMU's Xen device model, libvirt's xen driver,
  Debian's python3-libvirt, sshd, Python), built with the flavour's hypervisor and kernel and rebuilt
  only when that script, the CPU model or the flavour changes: 3 to 6 minutes;
- the overlay, made on every start in a second: /init, the lab's SSH key, libvirtd's config, the guests'
  kernel, initramfs and xl configs, and xentui as the single file `dist/xentui.pyz` (`make dist`), the
  way an admin copies it to a dom0 without pip, compiler or network.
"""

from __future__ import annotations

import gzip
import hashlib
import lzma
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from lab.artifacts import BANNER, CACHE, LabUnavailable, _cpio_newc, initramfs

HERE = Path(__file__).parent
PROJECT = HERE.parent.parent
XEN_CACHE = CACHE / "xen"
PYZ = PROJECT / "dist" / "xentui.pyz"
PYZ_IN_DOM0 = "/root/xentui.pyz"
LIBVIRTD_TCP_PORT = 16509

LIBVIRTD_CONF = f"""# The lab's libvirtd: TCP on dom0's own network only (reached through QEMU's port forward), no auth.
listen_tls = 0
listen_tcp = 1
tcp_port = "{LIBVIRTD_TCP_PORT}"
auth_tcp = "none"
auth_unix_ro = "none"
auth_unix_rw = "none"
"""


# The guests' /init in the Xen lab: the labs' busybox initramfs with this init in its place, and the kernel's
# PV front-end modules (xen-netfront, xen-blkfront) beside it. `lab_pv=vif,vbd` on the kernel command line
# loads them at boot (an HVM guest without it is one with no PV drivers, the classic Windows case);
# `lab_ip=ADDR/24` gives eth0 its address on dom0's bridge. `lab-pv on|off` loads or unloads them later.
GUEST_INIT = f"""#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox --install -s /bin
export PATH=/bin PS1='lab# '
tty=ttyS0
pv=
for arg in $(cat /proc/cmdline); do
    case "$arg" in lab_tty=*) tty=${{arg#lab_tty=}};; lab_pv=*) pv=${{arg#lab_pv=}};; esac
done
[ -n "$pv" ] && lab-pv on "$pv" >/dev/$tty 2>&1
while true; do
    echo "{BANNER}" > /dev/$tty
    setsid sh -c "exec sh -i </dev/$tty >/dev/$tty 2>&1"
done
"""
LAB_PV = """#!/bin/sh
# lab-pv on [vif,vbd] | off: connect or disconnect this guest's PV front-ends. Off unbinds the devices
# from their drivers (an HVM guest's front-end modules cannot be unloaded); on loads the drivers or binds
# the devices again. An HVM guest's disk (QEMU's qdisk back-end) does not reconnect after that: its vif does.
if [ "$1" = off ]; then
    for d in /sys/bus/xen/drivers/vif/vif-* /sys/bus/xen/drivers/vbd/vbd-*; do
        [ -e "$d" ] && echo "${d##*/}" > "${d%/*}/unbind"
    done
    exit 0
fi
kinds=${2:-vif,vbd}
for kind in vbd vif; do
    case ",$kinds," in *,$kind,*) ;; *) continue;; esac
    module=xen-blkfront; [ $kind = vif ] && module=xen-netfront
    if [ -d /sys/bus/xen/drivers/$kind ]; then
        for d in /sys/bus/xen/devices/$kind-*; do
            [ -e "$d/driver" ] || echo "${d##*/}" > /sys/bus/xen/drivers/$kind/bind
        done
    else
        insmod /lib/xen/$module.ko
    fi
done
ip=
for arg in $(cat /proc/cmdline); do case "$arg" in lab_ip=*) ip=${arg#lab_ip=};; esac; done
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/class/net/eth0 ] && break; sleep 1; done
if [ -n "$ip" ] && [ -e /sys/class/net/eth0 ]; then
    ip addr add "$ip" dev eth0 2>/dev/null
    ip link set eth0 up
fi
exit 0
"""
FRONTEND_MODULES = ("xen-netfront", "xen-blkfront")


@dataclass(frozen=True)
class Flavour:
    """A dom0 the lab can boot: a Debian release (debootstrap's suite name) and the Xen it ships."""

    name: str
    debian: str
    xen: str

    def __str__(self) -> str:
        return f"Debian {self.debian} ({self.name}), Xen {self.xen}"


FLAVOURS = {
    "bookworm": Flavour("bookworm", "12", "4.17"),
    "trixie": Flavour("trixie", "13", "4.20"),
}


@dataclass(frozen=True)
class BootFiles:
    xen: Path
    vmlinuz: Path
    base: Path


def boot_files(flavour: Flavour, log: bool = True) -> BootFiles:
    """The flavour's hypervisor, kernel and base root, built once per flavour and inputs."""
    script = HERE / "build-base.sh"
    inputs = script.read_bytes() + (HERE / "x86_xentui-lab.xml").read_bytes() + repr(flavour).encode()
    digest = hashlib.sha256(inputs).hexdigest()[:16]
    target = XEN_CACHE / f"{flavour.name}-{digest}"
    files = BootFiles(target / "xen", target / "vmlinuz", target / "base.cpio.gz")
    if files.base.exists():
        return files
    XEN_CACHE.mkdir(parents=True, exist_ok=True)
    for old in XEN_CACHE.glob(f"{flavour.name}-*"):
        shutil.rmtree(old, ignore_errors=True)
    if shutil.which("debootstrap") is None and not os.path.exists("/usr/sbin/debootstrap"):
        raise LabUnavailable("debootstrap is not installed (scripts/setup.sh installs it)")
    work = XEN_CACHE / f"build-{flavour.name}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    if log:
        print(f"xen lab: building dom0's root for {flavour} (debootstrap; a few minutes, once)", file=sys.stderr)
    done = subprocess.run(
        ["bash", str(script), str(work), flavour.name, flavour.xen], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise LabUnavailable(f"building dom0's root for {flavour} failed: {done.stderr.strip()[-2000:]}")
    shutil.rmtree(work / "root", ignore_errors=True)
    (work / "debootstrap.log").unlink(missing_ok=True)
    work.replace(target)
    return files


def frontend_modules(flavour: Flavour) -> dict[str, bytes]:
    """The flavour kernel's PV front-end modules, uncompressed (Debian 13 ships them as .ko.xz, which
    busybox's insmod does not read), taken once from the base root's archive and kept beside it."""
    files = boot_files(flavour)
    cached = files.base.parent / "frontends"
    if not all((cached / f"{m}.ko").exists() for m in FRONTEND_MODULES):
        work = files.base.parent / "frontends.tmp"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        patterns = [f"*/{m}.ko*" for m in FRONTEND_MODULES]
        with files.base.open("rb") as f:
            zcat = subprocess.run(["gzip", "-dc"], stdin=f, capture_output=True, check=True).stdout
        done = subprocess.run(["cpio", "-i", "-d", "--quiet", *patterns], cwd=work, input=zcat, capture_output=True)
        if done.returncode != 0:
            raise LabUnavailable(f"cpio: {done.stderr.decode(errors='replace')}")
        for m in FRONTEND_MODULES:
            found = sorted(work.rglob(f"{m}.ko*"))
            if not found:
                raise LabUnavailable(f"{flavour}: the dom0 root has no {m} module")
            data = found[0].read_bytes()
            (work / f"{m}.ko").write_bytes(lzma.decompress(data) if found[0].name.endswith(".xz") else data)
        cached.mkdir(exist_ok=True)
        for m in FRONTEND_MODULES:
            (work / f"{m}.ko").replace(cached / f"{m}.ko")
        shutil.rmtree(work, ignore_errors=True)
    return {m: (cached / f"{m}.ko").read_bytes() for m in FRONTEND_MODULES}


def guest_initramfs(flavour: Flavour) -> bytes:
    """The labs' busybox initramfs followed by a second cpio archive with the Xen guests' init, `lab-pv`
    and the front-end modules: the kernel unpacks both in turn, the second's /init replacing the first's."""
    entries = [
        ("lib", 0o40755, b""),
        ("lib/xen", 0o40755, b""),
        *((f"lib/xen/{m}.ko", 0o100644, data) for m, data in frontend_modules(flavour).items()),
        ("init", 0o100755, GUEST_INIT.encode()),
        ("bin/lab-pv", 0o100755, LAB_PV.encode()),
    ]
    # One gzip member, not two: libxc unpacks a PV guest's ramdisk itself and sizes it from the last
    # member's trailer, so two joined members fail to load ("xc_dom_do_gunzip: inflate failed").
    base = gzip.decompress(initramfs().read_bytes())
    return gzip.compress(base + _cpio_newc(entries), compresslevel=6)


def _newest_source() -> float:
    """The newest of what `make dist` reads: the package, the build script and its pins (scripts/)."""
    paths = [PROJECT / "pyproject.toml", PROJECT / "Makefile", *(PROJECT / "xentui").rglob("*")]
    paths += (PROJECT / "scripts").glob("*")
    return max(p.stat().st_mtime for p in paths if p.is_file() and "__pycache__" not in p.parts)


def single_file() -> Path:
    """dist/xentui.pyz, made again with `make dist` when it is missing or older than the sources."""
    if PYZ.exists() and PYZ.stat().st_mtime >= _newest_source():
        return PYZ
    done = subprocess.run(["make", "-s", "dist"], cwd=PROJECT, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not PYZ.exists():
        raise LabUnavailable(f"make dist failed: {(done.stderr or done.stdout).strip()[-1500:]}")
    return PYZ


def overlay(work: Path, public_key: str, guest_files: dict[str, bytes], flavour: Flavour) -> Path:
    """The per-start archive: init, key, configs, guests' boot files, and xentui's single file."""
    root = work / "overlay"
    shutil.rmtree(root, ignore_errors=True)
    (root / "root/.ssh").mkdir(parents=True)
    (root / "etc/libvirt").mkdir(parents=True)
    (root / "var/lib/xentui-lab").mkdir(parents=True)
    shutil.copyfile(HERE / "dom0-init", root / "init")
    (root / "init").chmod(0o755)
    (root / "root/.ssh/authorized_keys").write_text(public_key)
    (root / "root/.ssh/authorized_keys").chmod(0o600)
    (root / "etc/libvirt/libvirtd.conf").write_text(LIBVIRTD_CONF)
    lab_dir = root / "var/lib/xentui-lab"
    shutil.copyfile(boot_files(flavour).vmlinuz, lab_dir / "vmlinuz")  # the guests run dom0's kernel
    (lab_dir / "initrd.gz").write_bytes(guest_initramfs(flavour))
    for name, data in guest_files.items():
        (lab_dir / name).write_bytes(data)
    shutil.copyfile(single_file(), root / PYZ_IN_DOM0.lstrip("/"))
    archive = work / "overlay.cpio.gz"
    find = subprocess.run(["find", "."], cwd=root, capture_output=True, check=True).stdout
    cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root, input=find, capture_output=True)
    if cpio.returncode != 0:
        raise LabUnavailable(f"cpio: {cpio.stderr.decode(errors='replace')}")
    archive.write_bytes(gzip.compress(cpio.stdout, compresslevel=1))
    shutil.rmtree(root)
    return archive


def dom0_initramfs(
    flavour: Flavour, work: Path, public_key: str, guest_files: dict[str, bytes]
) -> tuple[Path, Path, Path]:
    """(xen, dom0 kernel, dom0 initramfs): the flavour's base and this start's overlay joined."""
    files = boot_files(flavour)
    extra = overlay(work, public_key, guest_files, flavour)
    joined = work / "dom0.cpio.gz"
    with joined.open("wb") as out:
        for part in (files.base, extra):
            with part.open("rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)
    os.unlink(extra)
    return files.xen, files.vmlinuz, joined


if __name__ == "__main__":
    # python -m lab.xen.image FLAVOUR...: build (or find) the flavours' boot files, e.g. ahead of a boot.
    for name in sys.argv[1:] or list(FLAVOURS):
        print(boot_files(FLAVOURS[name]).base)
