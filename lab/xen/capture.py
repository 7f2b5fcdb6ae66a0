"""Real outputs of a booted Xen lab, kept as test fixtures (tests/fixtures/xen-VERSION-WHAT.txt).

    python -m lab.xen.capture        # with the lab up (python -m lab.xen.xen_lab up): reads /tmp/xentui-xenlab.dir

What is captured and by which command is listed in tests/fixtures/README.md. The guests' I/O counters are
moved first (ping from dom0 over the bridge, dd onto a guest's disk), so that xentop's NET and VBD columns
are not all zero.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from lab.xen.xen_lab import GUEST_BY_NAME, XenLab, attach

FIXTURES = Path(__file__).resolve().parent.parent.parent / "tests" / "fixtures"


def traffic(lab: XenLab) -> None:
    """Packets both ways on every vif, blocks written on every vbd."""
    pings = " ".join(f"busybox ping -q -c 5 -i 0.2 {g.ip} >/dev/null &" for g in GUEST_BY_NAME.values() if g.ip)
    lab.ssh(f"{pings} wait; true", timeout=60)
    running = {line.split()[0] for line in lab.ssh("xl list").splitlines()[1:]}
    for g in GUEST_BY_NAME.values():
        if g.disk is not None and g.pv and g.name in running:
            lab.guest_run(g.name, "dd if=/dev/zero of=/dev/xvda bs=64k count=64 conv=fsync 2>/dev/null")


def capture(lab: XenLab) -> dict[str, str]:
    out: dict[str, str] = {}
    lab.wait_for_frontends("hvmguest", connected=True)
    traffic(lab)
    time.sleep(2)
    # Traffic during xentop's three samples as well, so that the rates between them are not zero.
    out["xentop-batch-8guests"] = lab.ssh(
        f"(busybox ping -q -c 15 -i 0.2 {GUEST_BY_NAME['pvguest'].ip} >/dev/null &); xentop -b -d 1 -i 3", timeout=60
    )
    out["xl-info"] = lab.ssh("xl info")
    out["xl-list-l-8guests"] = lab.ssh("xl list -l", timeout=60)
    out["xl-list-8guests"] = lab.ssh("xl list")
    for name in ("pvguest", "pvhguest", "hvmguest", "hvmnopv"):
        out[f"xenstore-ls-{name}"] = lab.ssh(f"xenstore-ls -f /local/domain/$(xl domid {name})")
    out["xenstore-ls-dom0-backend"] = lab.ssh("xenstore-ls -f /local/domain/0/backend")
    # The same HVM guest with its PV front-ends disconnected (their drivers unloaded), then connected again.
    lab.guest_run("hvmguest", "lab-pv off")
    lab.wait_for_frontends("hvmguest", connected=False)
    out["xenstore-ls-hvmguest-pv-unloaded"] = lab.ssh("xenstore-ls -f /local/domain/$(xl domid hvmguest)")
    lab.guest_run("hvmguest", "lab-pv on vif")  # its vif reconnects (its qdisk does not: lab/xen/image.py)
    deadline = time.monotonic() + 60
    while lab.frontend_states("hvmguest").get("vif/0") != 4 and time.monotonic() < deadline:
        time.sleep(2)
    # Watches while a guest is destroyed and started again (by another shell: xl and virsh).
    out["xenstore-watch-introduce-release"] = lab.ssh(
        "xenstore-watch @introduceDomain > /tmp/w-intro & xenstore-watch @releaseDomain > /tmp/w-release & "
        "sleep 1; xl destroy pvsmall2; sleep 2; virsh -q -c xen:///system start pvsmall2 >/dev/null; sleep 3; "
        "kill %1 %2; wait; echo '== xenstore-watch @introduceDomain'; cat /tmp/w-intro; "
        "echo '== xenstore-watch @releaseDomain'; cat /tmp/w-release",
        timeout=120,
    )
    return out


def main(argv: list[str]) -> int:
    lab = attach()
    ver = lab.flavour.xen
    for what, text in capture(lab).items():
        path = FIXTURES / f"xen-{ver}-{what}.txt"
        path.write_text(text)
        print(path, len(text.splitlines()), "lines")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
