"""Live PV-driver triage: which PV frontends xenstore shows connected, beside what the configuration says.

Pure: from a `Domain` whose source read xenstore (`Domain.frontends` not None), no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from xentui.model import Domain, Frontend, Mode, XenbusState


@dataclass(frozen=True)
class LivePv:
    """What xenstore shows of a running guest's PV frontends, and the configured evidence to keep beside it."""

    hvm: bool
    connected: tuple[str, ...]  # disk/network kinds with a connected frontend, in xenstore's order, once each
    also: tuple[str, ...]  # other kinds connected (vkbd, vfb, console): not PV drivers for disk or network
    others: tuple[Frontend, ...]  # frontends in any other state (Initialising: the guest never took them up)
    platform_on: bool  # the configuration lets PV drivers connect (platform device on, or PV devices)
    evidence: tuple[str, ...]  # what decided that in the configuration (Verdict.evidence)

    @property
    def emulated_only(self) -> bool:
        """An HVM guest with no frontend connected: it runs on emulated devices."""
        return self.hvm and not self.connected


def live_pv(domain: Domain) -> LivePv | None:
    """None where the source cannot read xenstore, and for Domain-0 (it holds the backends, not frontends)."""
    if domain.frontends is None or domain.id == 0:
        return None
    connected: list[str] = []
    also: list[str] = []
    for f in domain.frontends:
        kinds = connected if f.io else also
        if f.connected and f.kind not in kinds:
            kinds.append(f.kind)
    verdict = domain.config.verdict if domain.config is not None else None
    return LivePv(
        hvm=domain.mode is Mode.HVM,
        connected=tuple(connected),
        also=tuple(also),
        others=tuple(f for f in domain.frontends if not f.connected),
        platform_on=domain.pv_drivers,
        evidence=verdict.evidence if verdict is not None else (),
    )


def state_name(state: int) -> str:
    """A XenbusState as a word ("initialising", "init wait"); a number outside the enum as read."""
    try:
        return XenbusState(state).name.lower().replace("_", " ")
    except ValueError:
        return f"state {state}"


def live_pv_text(live: LivePv) -> str:
    """One line: "PV drivers live: vif, vbd connected", or why there are none; frontends in other states after."""
    if live.connected:
        text = f"PV drivers live: {', '.join(live.connected)} connected"
    elif live.hvm and live.platform_on:
        text = (
            "platform device on, no PV disk/net frontend connected: emulated devices only (no PV drivers in the guest?)"
        )
    elif live.hvm:
        text = "no PV disk/net frontend connected: emulated devices only"
    else:
        text = "no PV frontend connected"
    if live.also:
        text += f"; also connected: {', '.join(live.also)}"
    if live.others:
        text += "; " + ", ".join(f"{f.kind} {f.devid} {state_name(f.state)}" for f in live.others)
    return text
