"""The Xen lab's boot files, cached outside git: the hypervisor, the dom0 kernel, and dom0's root.

dom0's root is two gzip cpio archives joined into one initramfs (the kernel unpacks them in turn):
- the base (`build-base.sh`: Debian 12 with Xen 4.17's tools, QEMU's Xen device model, libvirt's xen
  driver, sshd, Python), rebuilt only when that script or the kernel package changes: about 2 minutes;
- the overlay, made on every start in a second: /init, the lab's SSH key, libvirtd's config, the guests'
  kernel, initramfs and xl configs, and xentui installed from this checkout's wheel and its dependencies.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from lab.artifacts import CACHE, LabUnavailable, _run, initramfs

HERE = Path(__file__).parent
PROJECT = HERE.parent.parent
XEN_CACHE = CACHE / "xen"
XEN_PACKAGE = "xen-hypervisor-4.17-amd64"
LIBVIRTD_TCP_PORT = 16509

LIBVIRTD_CONF = f"""# The lab's libvirtd: TCP on dom0's own network only (reached through QEMU's port forward), no auth.
listen_tls = 0
listen_tcp = 1
tcp_port = "{LIBVIRTD_TCP_PORT}"
auth_tcp = "none"
auth_unix_ro = "none"
auth_unix_rw = "none"
"""


def _download(package: str) -> Path:
    """A Debian package in the cache, downloaded once."""
    found = sorted(XEN_CACHE.glob(f"{package}_*.deb"))
    if found:
        return found[-1]
    XEN_CACHE.mkdir(parents=True, exist_ok=True)
    _run(["apt-get", "download", "-q", package], cwd=XEN_CACHE)
    found = sorted(XEN_CACHE.glob(f"{package}_*.deb"))
    if not found:
        raise LabUnavailable(f"apt-get download {package} left no package")
    return found[-1]


def kernel_package() -> str:
    deps = _run(["apt-cache", "depends", "linux-image-amd64"])
    pkg = next((ln.split()[-1] for ln in deps.splitlines() if "Depends: linux-image-" in ln), None)
    if pkg is None:
        raise LabUnavailable("apt knows no linux-image-amd64 (run apt-get update)")
    return pkg


def hypervisor() -> Path:
    """Xen as a 32-bit multiboot ELF, which QEMU's -kernel boots (the package ships it gzipped)."""
    target = XEN_CACHE / "xen-4.17"
    if target.exists():
        return target
    deb = _download(XEN_PACKAGE)
    unpacked = XEN_CACHE / "xen-unpacked"
    _run(["dpkg-deb", "-x", str(deb), str(unpacked)])
    gz = next(unpacked.glob("boot/xen-4.17-amd64.gz"))
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(gzip.decompress(gz.read_bytes()))
    tmp.replace(target)
    shutil.rmtree(unpacked)
    return target


def dom0_kernel(kernel_deb: Path) -> Path:
    target = XEN_CACHE / f"vmlinuz-{kernel_deb.name.split('_')[0].removeprefix('linux-image-')}"
    if target.exists():
        return target
    unpacked = XEN_CACHE / "kernel-unpacked"
    _run(["dpkg-deb", "-x", str(kernel_deb), str(unpacked)])
    shutil.copyfile(next(unpacked.glob("boot/vmlinuz-*")), target)
    shutil.rmtree(unpacked)
    return target


def base_root(kernel_deb: Path, log: bool = True) -> Path:
    script = HERE / "build-base.sh"
    inputs = script.read_bytes() + (HERE / "x86_xentui-lab.xml").read_bytes() + kernel_deb.name.encode()
    digest = hashlib.sha256(inputs).hexdigest()[:16]
    target = XEN_CACHE / f"base-{digest}.cpio.gz"
    if target.exists():
        return target
    for old in XEN_CACHE.glob("base-*.cpio.gz"):
        old.unlink()
    if shutil.which("debootstrap") is None:
        raise LabUnavailable("debootstrap is not installed (scripts/setup.sh installs it)")
    work = XEN_CACHE / "base-build"
    if log:
        print("xen lab: building the dom0 root (debootstrap; about 2 minutes, once)", file=sys.stderr)
    done = subprocess.run(["bash", str(script), str(work), str(kernel_deb)], capture_output=True, text=True)
    if done.returncode != 0:
        raise LabUnavailable(f"building the dom0 root failed: {done.stderr.strip()[-2000:]}")
    (work / "base.cpio.gz").replace(target)
    shutil.rmtree(work, ignore_errors=True)
    return target


def wheels() -> Path:
    """xentui's wheel from this checkout and its dependencies' wheels (libvirt-python built here, once)."""
    target = XEN_CACHE / "wheels"
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("xentui-*.whl"):
        old.unlink()
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--wheel-dir", str(target)]
    done = subprocess.run([*pip, "--no-deps", str(PROJECT)], capture_output=True, text=True)
    if done.returncode != 0:
        raise LabUnavailable(f"building xentui's wheel failed: {done.stderr.strip()[-1500:]}")
    wheel = next(target.glob("xentui-*.whl"))
    done = subprocess.run([*pip, "--find-links", str(target), str(wheel)], capture_output=True, text=True)
    if done.returncode != 0:
        raise LabUnavailable(f"building the dependencies' wheels failed: {done.stderr.strip()[-1500:]}")
    return target


def overlay(work: Path, public_key: str, guest_files: dict[str, bytes], kernel_for_guests: Path) -> Path:
    """The per-start archive: init, key, configs, guests' boot files, and xentui with its dependencies."""
    root = work / "overlay"
    shutil.rmtree(root, ignore_errors=True)
    (root / "root/.ssh").mkdir(parents=True)
    (root / "etc/libvirt").mkdir(parents=True)
    (root / "var/lib/xentui-lab").mkdir(parents=True)
    (root / "usr/local/bin").mkdir(parents=True)
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
    site = root / "opt/xentui"
    found = wheels()
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--find-links", str(found), "--target",
         str(site), "xentui"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise LabUnavailable(f"installing xentui into the overlay failed: {done.stderr.strip()[-1500:]}")
    launcher = root / "usr/local/bin/xentui"
    launcher.write_text('#!/bin/sh\nPYTHONPATH=/opt/xentui exec python3 -m xentui "$@"\n')
    launcher.chmod(0o755)
    archive = work / "overlay.cpio.gz"
    find = subprocess.run(["find", "."], cwd=root, capture_output=True, check=True).stdout
    cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root, input=find, capture_output=True)
    if cpio.returncode != 0:
        raise LabUnavailable(f"cpio: {cpio.stderr.decode(errors='replace')}")
    archive.write_bytes(gzip.compress(cpio.stdout, compresslevel=1))
    shutil.rmtree(root)
    return archive


def dom0_initramfs(work: Path, public_key: str, guest_files: dict[str, bytes]) -> tuple[Path, Path, Path]:
    """(xen, dom0 kernel, dom0 initramfs): the base and this start's overlay joined."""
    kernel_deb = _download(kernel_package())
    xen = hypervisor()
    vmlinuz = dom0_kernel(kernel_deb)
    base = base_root(kernel_deb)
    extra = overlay(work, public_key, guest_files, vmlinuz)
    joined = work / "dom0.cpio.gz"
    with joined.open("wb") as out:
        for part in (base, extra):
            with part.open("rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)
    os.unlink(extra)
    return xen, vmlinuz, joined
