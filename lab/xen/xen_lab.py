"""A real Xen host under QEMU (software emulation), with eight PV, PVH and HVM guests (LAB_GUESTS).

    python -m lab.xen.xen_lab up [--flavour bookworm|trixie]   # build (cached) and boot; prints ssh and URI
    python -m lab.xen.xen_lab down

Flavours (lab/xen/image.py): bookworm is Debian 12 with Xen 4.17, trixie Debian 13 with Xen 4.20.
dom0 runs in RAM; xentui is in it as the single file /root/xentui.pyz, run by Debian's python3 with
Debian's python3-libvirt. dom0's SSH port and libvirtd's TCP port are forwarded to 127.0.0.1 on this
machine by QEMU's user networking; the lab makes a throwaway SSH key for root.
Facts that shaped it: `-cpu max` crashes dom0 at once, `qemu64,+svm,+npt` works and Xen then has
HAP, so HVM and PVH guests run (both flavours); dom0 answers `xl list` some 30 s after QEMU starts,
and each guest takes about 10 s to start. The guests share a bridge in dom0 (xenbr0, 10.99.0.0/24; dom0 is
10.99.0.1), some have a disk (a loop device): xentop shows NETS and VBDS, and `ping` from dom0 or `dd` in a
guest (`guest_run`) makes traffic.
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
BRIDGE, DOM0_IP = "xenbr0", "10.99.0.1"  # made by dom0-init; no uplink


@dataclass(frozen=True)
class Guest:
    """One lab guest. `ip`: it has a vif on dom0's bridge with that address; `disk`: a vbd on that loop
    device (`phy:`, a sparse file in dom0's RAM); `pv`: the PV front-ends its init connects at boot
    (none: an HVM guest without PV drivers, its platform device present but nothing connected)."""

    name: str
    mode: str
    memory_mib: int
    ip: str | None = None
    disk: int | None = None
    pv: str = "vif,vbd"

    @property
    def booted_memory_mib(self) -> int:
        # libxl sets an HVM guest's balloon target to its memory less the emulated graphics card's video
        # RAM (8 MiB), and the guest kernel's balloon driver gives those back.
        return self.memory_mib - 8 if self.mode == "HVM" else self.memory_mib

    @property
    def config(self) -> str:
        tty = "ttyS0" if self.mode == "HVM" else "hvc0"
        extra = f"console={tty} rdinit=/init lab_tty={tty}"
        extra += (f" lab_pv={self.pv}" if self.pv else "") + (f" lab_ip={self.ip}/24" if self.ip else "")
        lines = [
            f'name = "{self.name}"', f'type = "{self.mode.lower()}"', f"memory = {self.memory_mib}",
            f'kernel = "{GUEST_DIR}/vmlinuz"', f'ramdisk = "{GUEST_DIR}/initrd.gz"', "vcpus = 1",
            'on_poweroff = "destroy"', f'extra = "{extra}"',
        ]  # fmt: skip
        if self.mode == "HVM":
            lines += ['serial = "pty"', "vnc = 1", 'vnclisten = "127.0.0.1"']
        if self.ip:
            mac = f"00:16:3e:99:00:{int(self.ip.rsplit('.', 1)[1]):02x}"
            lines.append(f'vif = ["mac={mac},bridge={BRIDGE}"]')
        if self.disk is not None:
            # Debian 13's libvirt (11) reads this as a file on QEMU's qdisk back-end, whose I/O xentop does not
            # count (VBDS 0). Forcing blkback there (<driver name='phy'/> on a block disk, or backendtype=phy
            # with xl create) fails: /etc/xen/scripts/block add times out in the lab's dom0.
            lines.append(f'disk = ["phy:/dev/loop{self.disk},xvda,w"]')
        return "\n".join(lines) + "\n"


# Eight guests, every mode: the first three are the ones the tests look at most; the small ones make
# the host look like a real one to xentop and xentui and cost little (an idle busybox). 96 MiB: with 64 a
# PV guest does not start (the domain builder wants 58 MiB for this kernel's image alone).
LAB_GUESTS = (
    Guest("pvguest", "PV", 128, ip="10.99.0.11", disk=0),
    Guest("pvhguest", "PVH", 128, ip="10.99.0.12"),
    Guest("hvmguest", "HVM", 256, ip="10.99.0.13", disk=1),
    Guest("hvmnopv", "HVM", 128, ip="10.99.0.14", disk=2, pv=""),
    Guest("pvsmall1", "PV", 96, ip="10.99.0.21", disk=3),
    Guest("pvsmall2", "PV", 96),
    Guest("pvhsmall1", "PVH", 96, ip="10.99.0.23"),
    Guest("pvsmall3", "PV", 96, disk=4),
)
GUEST_BY_NAME = {g.name: g for g in LAB_GUESTS}
GUESTS = {g.name: g.config for g in LAB_GUESTS}
MODES = {g.name: g.mode for g in LAB_GUESTS}
MEMORY_MIB = {g.name: g.memory_mib for g in LAB_GUESTS}
BOOTED_MEMORY_MIB = {g.name: g.booted_memory_mib for g in LAB_GUESTS}
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
        self.ssh(" && ".join(
            f"truncate -s 32M {GUEST_DIR}/{g.name}.img && losetup /dev/loop{g.disk} {GUEST_DIR}/{g.name}.img"
            for g in LAB_GUESTS if g.disk is not None
        ))  # fmt: skip
        for name in GUESTS:
            self.start_guest(name)
        self._wait_for_banner("pvguest")
        self._wait_for_balloon_targets()
        for g in LAB_GUESTS:
            if g.pv and (g.ip or g.disk is not None):
                self.wait_for_frontends(g.name, connected=True)
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

    def guest_run(self, name: str, command: str) -> None:
        """Type `command` into the guest's shell through its console pty in dom0 (the PV console, or an
        HVM guest's serial port); nothing is read back: check the effect (xenstore, xentop, the log).
        The pty is held open a while around the write: QEMU reads an HVM guest's serial pty only while
        its other end is open, and notices that within a second."""
        tty_key = "serial/0/tty" if MODES[name] == "HVM" else "console/tty"
        self.ssh(
            f"tty=$(xenstore-read /local/domain/$(xl domid {name})/{tty_key}) && exec 3<>$tty && "
            f"sleep 1.5 && printf '%s\\r' {shlex.quote(command)} >&3 && sleep 1.5"
        )

    def frontend_states(self, name: str) -> dict[str, int]:
        """The guest's vif and vbd front-ends and their XenbusState ({"vif/0": 4, "vbd/51712": 4})."""
        out = self.ssh(
            f"xenstore-ls -f /local/domain/$(xl domid {name})/device 2>/dev/null | grep -E '/(vif|vbd)/[0-9]+/state = '"
            "; true"
        )
        states = {}
        for line in out.splitlines():
            path, _, value = line.partition(" = ")
            states["/".join(path.split("/")[-3:-1])] = int(value.strip('"'))
        return states

    def wait_for_frontends(self, name: str, connected: bool, timeout: float = 180) -> dict[str, int]:
        """Until every vif and vbd front-end of the guest is Connected (4), or none is."""
        deadline = time.monotonic() + timeout
        while True:
            states = self.frontend_states(name)
            if states and (all(v == 4 for v in states.values()) if connected else 4 not in states.values()):
                return states
            if time.monotonic() > deadline:
                raise LabUnavailable(f"{name}: front-ends not {'all' if connected else 'un'}connected: {states}")
            time.sleep(2)

    def _boot(self, xen: Path, vmlinuz: Path, initrd: Path) -> None:
        fwd = (
            f"hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22,hostfwd=tcp:127.0.0.1:{self.libvirt_port}-:{LIBVIRTD_TCP_PORT}"
        )
        argv = [
            "qemu-system-x86_64", "-machine", "q35", "-accel", "tcg,thread=multi",
            "-cpu", "qemu64,+svm,+npt", "-m", "4096", "-smp", "2",
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

    def _wait_for_balloon_targets(self, timeout: float = 360) -> None:
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


STATE = Path("/tmp/xentui-xenlab.dir")


def attach() -> XenLab:
    """The lab that `up` started (its workdir, ports, QEMU's pid and flavour are in STATE)."""
    if not STATE.exists():
        raise LabUnavailable("the Xen lab is not up (python -m lab.xen.xen_lab up)")
    workdir, ssh_port, libvirt_port, pid, *rest = STATE.read_text().split()
    flavour = FLAVOURS[rest[0]] if rest else FLAVOURS["bookworm"]
    return XenLab(flavour, Path(workdir), int(ssh_port), int(libvirt_port), int(pid))


def main(argv: list[str]) -> int:
    state = STATE
    flavour = argv[argv.index("--flavour") + 1] if "--flavour" in argv[:-1] else "bookworm"
    if argv[:1] == ["up"] and flavour in FLAVOURS:
        lab = XenLab(FLAVOURS[flavour])
        try:
            lab.up()
        except LabUnavailable as exc:
            lab.down()
            print(f"xen lab: {exc}", file=sys.stderr)
            return 1
        state.write_text(f"{lab.workdir}\n{lab.ssh_port}\n{lab.libvirt_port}\n{lab.qemu_pid}\n{lab.flavour.name}\n")
        print(f"{lab.flavour} is up; xentui in dom0: {XENTUI}")
        print("dom0:   " + shlex.join(lab.ssh_argv()))
        print(f"libvirt: xentui -c {lab.libvirt_uri}")
        print("timings: " + ", ".join(f"{k} {v:.0f}" for k, v in lab.timings.items()))
        return 0
    if argv[:1] == ["down"] and state.exists():
        attach().down()
        state.unlink()
        return 0
    print(f"usage: python -m lab.xen.xen_lab up [--flavour {'|'.join(FLAVOURS)}] | down", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
