"""Demo-style hosts of any size for the benchmark: node XML for libvirt's test driver."""

from __future__ import annotations

from pathlib import Path

MODES = ("pv", "hvm", "pvh")


def host_xml(n: int) -> str:
    out = ["<node>", "  <memory>1073741824</memory>"]
    for i in range(n):
        mode = MODES[i % 3]
        os_type = {"pv": "linux", "hvm": "hvm", "pvh": "xenpvh"}[mode]
        machine = {"pv": "xenpv", "hvm": "xenfv", "pvh": "xenpvh"}[mode]
        state = "" if i % 10 else "<test:runstate>5</test:runstate>"  # one in ten shut off
        out.append(
            f"  <domain type='xen' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
            f"<name>{'Domain-0' if i == 0 else f'guest-{i:04d}'}</name>"
            f"<metadata><xentui:demo xmlns:xentui='https://xentui.example/demo' load='{(i * 37) % 90 + 1}'/></metadata>"
            f"<memory unit='MiB'>{512 * (1 + i % 8)}</memory><vcpu>{1 + i % 4}</vcpu>"
            f"<os><type arch='x86_64' machine='{machine}'>{os_type}</type></os>"
            f"<devices><console type='pty'/><graphics type='vnc' port='{5900 + i}' listen='127.0.0.1'/></devices>"
            f"{state if i else ''}</domain>"
        )
    out.append("</node>")
    return "\n".join(out) + "\n"


def write_host(n: int, directory: Path) -> Path:
    path = directory / f"host-{n}.xml"
    if not path.exists():
        path.write_text(host_xml(n))
    return path
