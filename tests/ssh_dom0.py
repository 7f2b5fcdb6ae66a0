"""A dom0 over ssh for tests: `xl+ssh://` URIs, and a private sshd on this machine with test doubles on its PATH.

    with PrivateSshd(tmp_path, bin_dir) as sshd:          # throwaway host and client keys, a free port
        uri = sshd.uri()                                 # xl+ssh://root@127.0.0.1:PORT/?keyfile=…&known_hosts=…

For a real dom0 (the Xen lab), `pinned_uri` records its host key first, so that nothing is left unchecked:

    uri = pinned_uri("127.0.0.1", lab.ssh_port, lab.key, lab.workdir / "known_hosts")
    uri = xl_ssh_uri("127.0.0.1", lab.ssh_port, lab.key, verify=False)  # or: like lab.ssh_uri, unchecked

Nothing outside the given directory is changed: the sshd has its own config, keys, pid file and known_hosts.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import IO
from urllib.parse import quote

SSHD = "/usr/sbin/sshd"


def xl_ssh_uri(
    host: str, port: int, keyfile: Path | str, known_hosts: Path | str = "", user: str = "root", verify: bool = True
) -> str:
    """`xl+ssh://user@host:port/?keyfile=KEY[&known_hosts=FILE][&no_verify=1]`; without known_hosts, ssh's own
    is used; `verify=False` neither checks nor records the host key (as the labs' libvirt URIs do)."""
    query = f"keyfile={quote(str(keyfile))}"
    if known_hosts:
        query += f"&known_hosts={quote(str(known_hosts))}"
    if not verify:
        query += "&no_verify=1"
    return f"xl+ssh://{user}@{host}:{port}/?{query}"


def pinned_uri(host: str, port: int, keyfile: Path | str, known_hosts: Path, user: str = "root") -> str:
    """The URI of a host whose key is recorded now (ssh-keyscan) in a private known_hosts file."""
    keys = subprocess.run(
        ["ssh-keyscan", "-T", "10", "-p", str(port), host], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    if not keys.strip():
        raise RuntimeError(f"ssh-keyscan -p {port} {host}: no host key (is sshd listening?)")
    known_hosts.write_text(keys)
    return xl_ssh_uri(host, port, keyfile, known_hosts, user)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateSshd:
    """`sshd -D` on 127.0.0.1 with its own keys; logins as root with `client_key`; `path_first` leads PATH."""

    def __init__(self, workdir: Path, path_first: Path) -> None:
        self.dir = workdir
        self.path_first = path_first
        self.port = free_port()
        self.client_key = workdir / "client_ed25519"
        self.known_hosts = workdir / "known_hosts"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def __enter__(self) -> PrivateSshd:
        if not os.path.exists(SSHD) or not shutil.which("ssh"):
            raise FileNotFoundError("openssh-server and openssh-client are needed")
        os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege-separation directory (the package makes it)
        host_key = self.dir / "host_ed25519"
        for key in (host_key, self.client_key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        (self.dir / "authorized_keys").write_text(Path(f"{self.client_key}.pub").read_text())
        config = self.dir / "sshd_config"
        config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {host_key}\n"
            f"AuthorizedKeysFile {self.dir / 'authorized_keys'}\nPidFile {self.dir / 'sshd.pid'}\n"
            "StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\nLogLevel ERROR\nMaxSessions 50\n"
            f"SetEnv PATH={self.path_first}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
        )
        self._log = (self.dir / "sshd.log").open("wb")
        self.proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    break
            time.sleep(0.05)
        pinned_uri("127.0.0.1", self.port, self.client_key, self.known_hosts)
        return self

    def uri(self, key: Path | None = None, known_hosts: Path | None = None) -> str:
        return xl_ssh_uri("127.0.0.1", self.port, key or self.client_key, known_hosts or self.known_hosts)

    def connections(self) -> list[int]:
        """The pids of sshd's per-connection processes: one for each ssh connection open to it."""
        assert self.proc is not None
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True, check=False)
        return [int(p) for p in out.stdout.split()]

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            for pid in self.connections():
                os.kill(pid, signal.SIGTERM)
            self.proc.terminate()
            self.proc.wait(10)
        if self._log is not None:
            self._log.close()
