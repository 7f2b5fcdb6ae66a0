"""A real libvirt with real QEMU guests, private to one test run.

A libvirtd of its own (config, sockets and pid file in the lab's directory) manages three tiny guests
booted from a Debian kernel and a busybox initramfs under TCG: one running, one paused, one shut off.
Each has a serial console and a VNC server on 127.0.0.1.

    python -m lab.qemu_lab up      # start it and print the URI; `down` stops it

Set-up facts, made by `prepare_host` (a fresh machine has none of them): the QEMU user `libvirt-qemu`
and the groups `libvirt-qemu` and `kvm`; `/run/libvirt` for virtlogd. When /dev/kvm exists but is root-only
(mode 0600, as on hosts without udev's rule), libvirt probes QEMU with KVM, then finds /dev/kvm
unusable for its QEMU user, discards its capability cache and probes again on every lookup: about
4 s each, some 50 s per guest start. Giving /dev/kvm group kvm and mode 0660, as Debian's udev rule
does, fixes that.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from lab.artifacts import BANNER, LabUnavailable, initramfs, kernel
from lab.procs import stop_pid

PREFIX = "xentui-lab-"
GUESTS = ("run", "paused", "off")
VIRTLOGD_SOCK = "/run/libvirt/virtlogd-sock"


def guest_xml(name: str, boot: Path, memory_mib: int = 96) -> str:
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>{memory_mib}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{boot}/vmlinuz</kernel>
    <initrd>{boot}/initrd.gz</initrd>
    <cmdline>console=ttyS0 rdinit=/init quiet</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <graphics type='vnc' listen='127.0.0.1' autoport='yes'/>
    <video><model type='vga'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
"""


def guest_names() -> dict[str, str]:
    return {g: PREFIX + g for g in GUESTS}


def check_machine() -> None:
    """Raise LabUnavailable naming what this machine lacks."""
    for tool in ("qemu-system-x86_64", "libvirtd", "virtlogd"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            raise LabUnavailable(f"{tool} is not installed (run scripts/setup.sh)")
    if os.geteuid() != 0:
        raise LabUnavailable("the lab runs a privileged libvirtd: run as root")
    if os.path.exists("/run/libvirt/libvirt-sock"):
        raise LabUnavailable("a system libvirtd is running; the lab needs the privileged QEMU driver to itself")


def prepare_host() -> None:
    """What a privileged libvirtd's QEMU driver expects of a Debian host (libvirt-daemon-system would make
    it): the groups, the QEMU user, the directories, and /dev/kvm with group kvm and mode 0660."""
    import grp
    import pwd

    for group in ("kvm", "libvirt-qemu"):
        try:
            grp.getgrnam(group)
        except KeyError:
            subprocess.run(["groupadd", "-r", group], check=True)
    try:
        pwd.getpwnam("libvirt-qemu")
    except KeyError:
        argv = ["useradd", "-r", "-g", "libvirt-qemu", "-G", "kvm", "-d", "/var/lib/libvirt"]
        subprocess.run([*argv, "-s", "/usr/sbin/nologin", "libvirt-qemu"], check=True)
    for directory in ("/run/libvirt", "/var/log/libvirt/qemu", "/var/lib/libvirt", "/var/cache/libvirt"):
        os.makedirs(directory, exist_ok=True)
    if os.path.exists("/dev/kvm") and os.stat("/dev/kvm").st_mode & 0o777 == 0o600:
        os.chown("/dev/kvm", -1, grp.getgrnam("kvm").gr_gid)
        os.chmod("/dev/kvm", 0o660)


def _sbin(tool: str) -> str:
    return shutil.which(tool) or f"/usr/sbin/{tool}"


def _socket_alive(path: str) -> bool:
    with contextlib.closing(socket.socket(socket.AF_UNIX)) as s:
        try:
            s.connect(path)
        except OSError:
            return False
    return True


@dataclass
class QemuLab:
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="xentui-lab-", dir="/tmp")))
    started: list[str] = field(default_factory=list)
    _virtlogd: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"qemu+unix:///system?socket={self.workdir}/libvirt-sock"

    def names(self) -> dict[str, str]:
        return guest_names()

    # -- daemon ----------------------------------------------------------------------------------------------
    def start_daemon(self) -> None:
        conf = self.workdir / "libvirtd.conf"
        conf.write_text(
            f'unix_sock_dir = "{self.workdir}"\n'
            'unix_sock_rw_perms = "0700"\nauth_unix_ro = "none"\nauth_unix_rw = "none"\n'
            "keepalive_interval = 2\n"
        )
        sock = self.workdir / "libvirt-sock"
        with contextlib.suppress(FileNotFoundError):
            sock.unlink()
        subprocess.run(
            [_sbin("libvirtd"), "-d", "--config", str(conf), "--pid-file", str(self.workdir / "libvirtd.pid")],
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while not _socket_alive(str(sock)):
            if time.monotonic() > deadline:
                raise LabUnavailable("libvirtd did not open its socket within 20 s")
            time.sleep(0.05)

    def daemon_pid(self) -> int | None:
        try:
            return int((self.workdir / "libvirtd.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def stop_daemon(self) -> None:
        stop_pid(self.daemon_pid(), timeout=15)

    def _ensure_virtlogd(self) -> None:
        if _socket_alive(VIRTLOGD_SOCK):
            return
        os.makedirs("/run/libvirt", exist_ok=True)
        os.makedirs("/var/log/libvirt/qemu", exist_ok=True)
        self._virtlogd = subprocess.Popen(
            [_sbin("virtlogd")], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while not _socket_alive(VIRTLOGD_SOCK):
            if time.monotonic() > deadline:
                raise LabUnavailable("virtlogd did not start")
            time.sleep(0.05)

    # -- guests ----------------------------------------------------------------------------------------------
    def _virsh(self, *args: str) -> str:
        done = subprocess.run(["virsh", "-c", self.uri, *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise LabUnavailable(f"virsh {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def up(self) -> str:
        check_machine()
        prepare_host()
        self.workdir.chmod(0o755)  # the QEMU user reads the boot files below it
        boot = self.workdir / "boot"
        boot.mkdir(exist_ok=True)
        shutil.copyfile(kernel(), boot / "vmlinuz")
        shutil.copyfile(initramfs(), boot / "initrd.gz")
        for f in boot.iterdir():
            f.chmod(0o644)
        self._ensure_virtlogd()
        self.start_daemon()
        names = self.names()
        for role, name in names.items():
            path = self.workdir / f"{name}.xml"
            path.write_text(guest_xml(name, boot))
            self._virsh("define", str(path))
            self.started.append(name)
            if role != "off":
                self._virsh("start", name)
        self._virsh("suspend", names["paused"])
        return self.uri

    def down(self) -> None:
        """Stop everything the lab started, whatever state it is in."""
        if _socket_alive(str(self.workdir / "libvirt-sock")):
            for name in self.started:
                subprocess.run(["virsh", "-c", self.uri, "destroy", name], capture_output=True, check=False)
                subprocess.run(["virsh", "-c", self.uri, "undefine", name], capture_output=True, check=False)
        self.stop_daemon()
        # QEMU processes outlive a killed daemon: end any left behind. Only this lab's: another lab's guests
        # have the same names, but not this lab's boot files on their command line.
        for name in self.started:
            pattern = f"guest={name},.*{self.workdir}/boot/"
            subprocess.run(["pkill", "-f", pattern], capture_output=True, check=False)
        if self._virtlogd is not None:
            self._virtlogd.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._virtlogd.wait(5)
        shutil.rmtree(self.workdir, ignore_errors=True)


def main(argv: list[str]) -> int:
    state = Path("/tmp/xentui-lab.dir")
    if argv[:1] == ["up"]:
        lab = QemuLab()
        lab.up()
        state.write_text(str(lab.workdir))
        print(lab.uri)
        print(f"guests: {', '.join(lab.names().values())}; serial banner: {BANNER!r}")
        return 0
    if argv[:1] == ["down"] and state.exists():
        lab = QemuLab(Path(state.read_text()), started=list(guest_names().values()))
        lab.down()
        state.unlink()
        return 0
    print("usage: python -m lab.qemu_lab up|down", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
