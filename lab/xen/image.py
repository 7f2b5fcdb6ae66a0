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
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from lab.artifacts import CACHE, LabUnavailable, initramfs

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


def overlay(work: Path, public_key: str, guest_files: dict[str, bytes], kernel_for_guests: Path) -> Path:
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
    shutil.copyfile(kernel_for_guests, lab_dir / "vmlinuz")
    shutil.copyfile(initramfs(), lab_dir / "initrd.gz")
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
    extra = overlay(work, public_key, guest_files, files.vmlinuz)
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
