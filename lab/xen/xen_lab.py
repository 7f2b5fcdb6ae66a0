"""A real Xen host under QEMU (software emulation), with a PV, a PVH and an HVM guest.

    python -m lab.xen.xen_lab up [--flavour bookworm|trixie]   # build (cached) and boot; prints ssh and URI
    python -m lab.xen.xen_lab down

Flavours (lab/xen/image.py): bookworm is Debian 12 with Xen 4.17, trixie Debian 13 with Xen 4.20.
dom0 runs in RAM; xentui is in it as the single file /root/xentui.pyz, run by Debian's python3 with
Debian's python3-libvirt. dom0's SSH port and libvirtd's TCP port are forwarded to 127.0.0.1 on this
machine by QEMU's user networking; the lab makes a throwaway SSH key for root.
Facts that shaped it: `-cpu max` crashes dom0 at once, `qemu64,+svm,+npt` works and Xen then has
HAP, so HVM and PVH guests run (both flavours); dom0 answers `xl list` some 30 s after QEMU starts,
and each guest takes about 10 s to start.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from lab.artifacts import BANNER, LabUnavailable
from lab.procs import alive, free_port, stop_pid
from lab.xen.image import FLAVOURS, LIBVIRTD_TCP_PORT, PYZ_IN_DOM0, Flavour, boot_files, dom0_initramfs

GUEST_DIR = "/var/lib/xentui-lab"
BOOT = f'kernel = "{GUEST_DIR}/vmlinuz"\nramdisk = "{GUEST_DIR}/initrd.gz"\nvcpus = 1\non_poweroff = "destroy"\n'
GUESTS = {
    "pvguest": f'name = "pvguest"\ntype = "pv"\nmemory = 128\n{BOOT}extra = "console=hvc0 rdinit=/init lab_tty=hvc0"\n',
    "pvhguest": f'name = "pvhguest"\ntype = "pvh"\nmemory = 128\n{BOOT}'
    'extra = "console=hvc0 rdinit=/init lab_tty=hvc0"\n',
    "hvmguest": f'name = "hvmguest"\ntype = "hvm"\nmemory = 256\n{BOOT}'
    'extra = "console=ttyS0 rdinit=/init lab_tty=ttyS0"\nserial = "pty"\nvnc = 1\nvnclisten = "127.0.0.1"\n',
}
MODES = {"pvguest": "PV", "pvhguest": "PVH", "hvmguest": "HVM"}
MEMORY_MIB = {"pvguest": 128, "pvhguest": 128, "hvmguest": 256}
# What each guest holds once booted: libxl sets an HVM guest's balloon target to its memory less the
# emulated graphics card's video RAM (8 MiB), and the guest kernel's balloon driver gives those back.
BOOTED_MEMORY_MIB = {"pvguest": 128, "pvhguest": 128, "hvmguest": 248}
XENTUI = f"python3 {PYZ_IN_DOM0}"  # how dom0 runs xentui: Debian's python3 and the single file


def check_machine() -> None:
    for tool in ("qemu-system-x86_64", "ssh", "ssh-keygen", "cpio", "debootstrap"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            raise LabUnavailable(f"{tool} is not installed (run scripts/setup.sh)")
    if os.geteuid() != 0:
        raise LabUnavailable("building dom0's root (debootstrap, chroot) needs root")


@dataclass
class XenLab:
    flavour: Flavour = FLAVOURS["bookworm"]
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="xentui-xenlab-", dir="/tmp")))
    ssh_port: int = 0
    libvirt_port: int = 0
    qemu_pid: int | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def key(self) -> Path:
        return self.workdir / "id_ed25519"

    @property
    def serial_log(self) -> Path:
        return self.workdir / "serial.log"

    def ssh_argv(self, *command: str, tty: bool = False) -> list[str]:
        """ssh to dom0 as root with the lab's key; `command` is run by dom0's shell."""
        opts = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"]
        return [
            "ssh", "-i", str(self.key), "-p", str(self.ssh_port), *opts, "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=10", *(["-t"] if tty else []), "root@127.0.0.1", *command,
        ]  # fmt: skip

    def ssh(self, command: str, timeout: float = 120, check: bool = True) -> str:
        done = subprocess.run(self.ssh_argv(command), capture_output=True, text=True, timeout=timeout, check=False)
        if check and done.returncode != 0:
            raise LabUnavailable(f"dom0: {command}: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout

    @property
    def libvirt_uri(self) -> str:
        """libvirt's xen driver in dom0, from this machine (TCP, no auth: the port is on 127.0.0.1 only)."""
        return f"xen+tcp://127.0.0.1:{self.libvirt_port}/system"

    @property
    def ssh_uri(self) -> str:
        return f"xen+ssh://root@127.0.0.1:{self.ssh_port}/system?keyfile={self.key}&no_verify=1"

    # -- up and down -----------------------------------------------------------------------------------------
    def up(self) -> None:
        check_machine()
        t0 = time.monotonic()
        boot_files(self.flavour)  # built once per flavour: minutes then, nothing after
        self.timings["root_s"] = time.monotonic() - t0
        t0 = time.monotonic()
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "xentui-xen-lab", "-f", str(self.key)], check=True
        )
        files = {f"{name}.cfg": cfg.encode() for name, cfg in GUESTS.items()}
        public_key = self.key.with_suffix(".pub").read_text()
        xen, vmlinuz, initrd = dom0_initramfs(self.flavour, self.workdir, public_key, files)
        self.timings["overlay_s"] = time.monotonic() - t0
        self.ssh_port, self.libvirt_port = free_port(), free_port()
        t1 = time.monotonic()
        self._boot(xen, vmlinuz, initrd)
        self._wait_for_dom0()
        self.timings["boot_s"] = time.monotonic() - t1
        t2 = time.monotonic()
        for name in GUESTS:
            self.start_guest(name)
        self._wait_for_banner("pvguest")
        self._wait_for_balloon_targets()
        self.timings["guests_s"] = time.monotonic() - t2

    def start_guest(self, name: str) -> None:
        """Through libvirt's xen driver, from the xl config: xl, libvirt and xentui all see the guest then
        (libvirt does not list domains that `xl create` started behind its back)."""
        cfg, xml = f"{GUEST_DIR}/{name}.cfg", f"{GUEST_DIR}/{name}.xml"
        self.ssh(
            f"virsh -q -c xen:///system domxml-from-native xen-xl {cfg} > {xml} && "
            f"virsh -q -c xen:///system define {xml} >/dev/null && virsh -q -c xen:///system start {name}",
            timeout=240,
        )

    def _boot(self, xen: Path, vmlinuz: Path, initrd: Path) -> None:
        fwd = (
            f"hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22,hostfwd=tcp:127.0.0.1:{self.libvirt_port}-:{LIBVIRTD_TCP_PORT}"
        )
        argv = [
            "qemu-system-x86_64", "-machine", "q35", "-accel", "tcg,thread=multi",
            "-cpu", "qemu64,+svm,+npt", "-m", "3584", "-smp", "2",
            "-display", "none", "-monitor", "none", "-serial", f"file:{self.serial_log}",
            "-kernel", str(xen),
            "-append", "dom0_mem=2048M,max:2048M console=com1 com1=115200,8n1 noreboot",
            "-initrd", f"{vmlinuz} console=hvc0 earlyprintk=xen rdinit=/init,{initrd}",
            "-netdev", f"user,id=n0,{fwd}", "-device", "e1000,netdev=n0",
            "-pidfile", str(self.workdir / "qemu.pid"), "-daemonize",
        ]  # fmt: skip
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise LabUnavailable(f"QEMU did not start: {done.stderr.strip()}")
        self.qemu_pid = int((self.workdir / "qemu.pid").read_text())

    def _wait_for_dom0(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.qemu_pid is not None and not alive(self.qemu_pid):
                raise LabUnavailable(f"QEMU exited while Xen booted; serial log:\n{self._serial_tail()}")
            probe = self.ssh_argv("xl list && virsh -c xen:///system list")
            done = subprocess.run(probe, capture_output=True, text=True, check=False, timeout=60)
            if done.returncode == 0 and done.stdout.count("Domain-0") == 2:
                return
            time.sleep(2)
        raise LabUnavailable(
            f"dom0 did not answer `xl list` and `virsh list` over SSH within {timeout:.0f} s; serial log:\n"
            f"{self._serial_tail()}"
        )

    def _wait_for_banner(self, name: str, timeout: float = 120) -> None:
        """A PV guest is up when its console log shows the initramfs's banner (xenconsoled keeps it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if BANNER in self.ssh(f"cat /var/log/xen/console/guest-{name}.log 2>/dev/null || true"):
                return
            time.sleep(2)

    def _wait_for_balloon_targets(self, timeout: float = 240) -> None:
        """Until every guest holds its balloon target: the HVM guest's kernel gives back 8 MiB some 90 s
        after it starts (under emulation), and the tests read sizes that must not change under them. A
        domain being built or torn down (Debian 13's lab shows some) has no target yet and is skipped."""
        probe = (
            "xl list | awk 'NR > 2 {print $1, $2, $3}' | while read name id mib; do "
            "t=$(xenstore-read /local/domain/$id/memory/target 2>/dev/null) && echo $name $mib $((t / 1024)); "
            "done; true"
        )
        rows: dict[str, tuple[str, str]] = {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = {name: (held, target) for name, held, target in (ln.split() for ln in self.ssh(probe).splitlines())}
            if all(name in rows and rows[name][0] == rows[name][1] for name in GUESTS):
                return
            time.sleep(3)
        raise LabUnavailable(f"the guests did not reach their balloon targets within {timeout:.0f} s: {rows}")

    def _serial_tail(self) -> str:
        try:
            return "\n".join(self.serial_log.read_text(errors="replace").splitlines()[-25:])
        except OSError:
            return "(none)"

    def down(self) -> None:
        pid = self.qemu_pid
        if pid is None:
            with contextlib.suppress(OSError, ValueError):
                pid = int((self.workdir / "qemu.pid").read_text())
        stop_pid(pid)
        shutil.rmtree(self.workdir, ignore_errors=True)


def main(argv: list[str]) -> int:
    state = Path("/tmp/xentui-xenlab.dir")
    flavour = argv[argv.index("--flavour") + 1] if "--flavour" in argv[:-1] else "bookworm"
    if argv[:1] == ["up"] and flavour in FLAVOURS:
        lab = XenLab(FLAVOURS[flavour])
        try:
            lab.up()
        except LabUnavailable as exc:
            lab.down()
            print(f"xen lab: {exc}", file=sys.stderr)
            return 1
        state.write_text(f"{lab.workdir}\n{lab.ssh_port}\n{lab.libvirt_port}\n{lab.qemu_pid}\n")
        print(f"{lab.flavour} is up; xentui in dom0: {XENTUI}")
        print("dom0:   " + shlex.join(lab.ssh_argv()))
        print(f"libvirt: xentui -c {lab.libvirt_uri}")
        print("timings: " + ", ".join(f"{k} {v:.0f}" for k, v in lab.timings.items()))
        return 0
    if argv[:1] == ["down"] and state.exists():
        workdir, ssh_port, libvirt_port, pid = state.read_text().split()
        XenLab(workdir=Path(workdir), ssh_port=int(ssh_port), libvirt_port=int(libvirt_port), qemu_pid=int(pid)).down()
        state.unlink()
        return 0
    print(f"usage: python -m lab.xen.xen_lab up [--flavour {'|'.join(FLAVOURS)}] | down", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
