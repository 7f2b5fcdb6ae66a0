"""Several real libvirt daemons on 127.0.0.1 for the fleet view, and an sshd to reach them through.

Each daemon is a real `libvirtd` on its own TCP port serving libvirt's test driver with a node XML of
its own (`test+tcp://127.0.0.1:PORT/path/host.xml`). A privileged libvirtd keeps its drivers' state
in /run/libvirt and takes a lock there, so each runs in a private mount namespace with its own
/run/libvirt: they coexist with each other and with the QEMU lab's daemon. The sshd (root, key only,
its own port and config) makes `+ssh` URIs real: libvirt runs ssh, then `nc -U` on the daemon's socket.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from lab.artifacts import CACHE, LabUnavailable
from lab.procs import free_port, stop_pid
from lab.qemu_lab import prepare_host

# The mount points are made first: on a machine where no libvirtd ever ran they do not exist.
UNSHARE = (
    "mkdir -p /run/libvirt /var/lib/libvirt /var/cache/libvirt && "
    "mount -t tmpfs tmpfs /run/libvirt && mount -t tmpfs tmpfs /var/lib/libvirt && "
    'mount -t tmpfs tmpfs /var/cache/libvirt && exec "$@"'
)


def _port_open(port: int) -> bool:
    with contextlib.closing(socket.socket()) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def node_xml(host: str, guests: int) -> str:
    """A small host for the test driver: `host-gN` guests, PV/HVM/PVH in turn, the last one shut off."""
    kinds = (("linux", "xenpv"), ("hvm", "xenfv"), ("xenpvh", "xenpvh"))
    out = ["<node>"]
    for i in range(guests):
        os_type, machine = kinds[i % 3]
        off = "<test:runstate>5</test:runstate>" if i == guests - 1 else ""
        out.append(
            "<domain type='xen' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
            f"<name>{host}-g{i}</name><memory unit='MiB'>{256 * (i + 1)}</memory><vcpu>{1 + i % 2}</vcpu>"
            f"<os><type arch='x86_64' machine='{machine}'>{os_type}</type></os>{off}</domain>"
        )
    out.append("</node>")
    return "\n".join(out) + "\n"


@dataclass
class Daemon:
    name: str
    directory: Path
    port: int
    node: Path
    pid: int | None = None

    @property
    def uri(self) -> str:
        return f"test+tcp://127.0.0.1:{self.port}{self.node}"

    @property
    def socket_path(self) -> Path:
        return self.directory / "libvirt-sock"


@dataclass
class FleetLab:
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="xentui-fleet-", dir="/tmp")))
    daemons: list[Daemon] = field(default_factory=list)
    sshd_port: int = 0
    _sshd: subprocess.Popen[bytes] | None = None

    def add_daemon(self, name: str, guests: int = 3, node: str | None = None) -> Daemon:
        """A daemon serving `node` (a test-driver node XML), else `guests` small guests named after it."""
        directory = self.workdir / name
        directory.mkdir()
        path = directory / "host.xml"
        path.write_text(node or node_xml(name, guests))
        daemon = Daemon(name, directory, free_port(), path)
        self.daemons.append(daemon)
        self.start(daemon)
        return daemon

    def start(self, d: Daemon) -> None:
        if shutil.which("unshare") is None or not os.path.exists("/usr/sbin/libvirtd"):
            raise LabUnavailable("libvirtd and unshare are needed (run scripts/setup.sh)")
        prepare_host()  # libvirtd loads its QEMU driver too, which wants the libvirt-qemu user
        conf = d.directory / "libvirtd.conf"
        conf.write_text(
            f'unix_sock_dir = "{d.directory}"\nlisten_tls = 0\nlisten_tcp = 1\ntcp_port = "{d.port}"\n'
            'listen_addr = "127.0.0.1"\nauth_tcp = "none"\nauth_unix_ro = "none"\nauth_unix_rw = "none"\n'
            "keepalive_interval = 2\n"
        )
        pidfile = d.directory / "libvirtd.pid"
        pidfile.unlink(missing_ok=True)
        argv = ["/usr/sbin/libvirtd", "-d", "--listen", "--config", str(conf), "--pid-file", str(pidfile)]
        subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", UNSHARE, "sh", *argv],
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while not _port_open(d.port):
            if time.monotonic() > deadline:
                raise LabUnavailable(f"libvirtd {d.name} did not listen on 127.0.0.1:{d.port} within 20 s")
            time.sleep(0.05)
        d.pid = int(pidfile.read_text().strip())

    def stop(self, d: Daemon) -> None:
        stop_pid(d.pid)
        d.pid = None

    # -- ssh -------------------------------------------------------------------------------------------------
    @property
    def key(self) -> Path:
        return self.workdir / "id_ed25519"

    def start_sshd(self) -> int:
        """An sshd for root on 127.0.0.1, accepting the lab's key only; its host key is kept in the cache
        so that the known_hosts entry libvirt's ssh leaves behind stays valid from run to run."""
        sshd = shutil.which("sshd") or "/usr/sbin/sshd"
        if not os.path.exists(sshd) or shutil.which("nc") is None:
            raise LabUnavailable("sshd and nc are needed (openssh-server, netcat-openbsd: run scripts/setup.sh)")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key)], check=True)
        host_key = CACHE / "sshd_host_ed25519_key"
        if not host_key.exists():
            CACHE.mkdir(parents=True, exist_ok=True)
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True)
        os.makedirs("/run/sshd", exist_ok=True)
        self.sshd_port = free_port()
        conf = self.workdir / "sshd_config"
        conf.write_text(
            f"Port {self.sshd_port}\nListenAddress 127.0.0.1\nHostKey {host_key}\n"
            f"AuthorizedKeysFile {self.key}.pub\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
            f"PidFile {self.workdir / 'sshd.pid'}\n"
        )
        self._sshd = subprocess.Popen(
            [sshd, "-D", "-e", "-f", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(self.workdir / "sshd.log").open("wb"),
        )
        deadline = time.monotonic() + 10
        while not _port_open(self.sshd_port):
            if time.monotonic() > deadline or self._sshd.poll() is not None:
                raise LabUnavailable(f"sshd did not start: {(self.workdir / 'sshd.log').read_text()[-500:]}")
            time.sleep(0.05)
        return self.sshd_port

    def ssh_uri(self, scheme: str, path: str, socket_path: Path, key: Path | None = None) -> str:
        """`scheme+ssh://root@127.0.0.1:PORT/path` through the lab's sshd to a daemon's unix socket."""
        return (
            f"{scheme}+ssh://root@127.0.0.1:{self.sshd_port}{path}"
            f"?keyfile={key or self.key}&no_verify=1&socket={socket_path}"
        )

    def down(self) -> None:
        for d in self.daemons:
            self.stop(d)
        if self._sshd is not None:
            self._sshd.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._sshd.wait(5)
        shutil.rmtree(self.workdir, ignore_errors=True)
