#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine (as root): system packages, then the project venv.
# Quiet and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

need=()
pkg-config --exists libvirt 2>/dev/null || need+=(libvirt-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v gcc >/dev/null || need+=(gcc)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ "${XENTUI_LAB:-1}" = 1 ]; then
    # For the test suite's real libvirt lab (QEMU guests under the embedded driver) and the TUI smoke test.
    command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
    [ -e /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so ] || need+=(libvirt-daemon-driver-qemu)
    command -v virtlogd >/dev/null || need+=(libvirt-daemon)
    command -v virsh >/dev/null || need+=(libvirt-clients)
    command -v tmux >/dev/null || need+=(tmux)
    [ -x /bin/busybox ] || need+=(busybox-static)
    command -v cpio >/dev/null || need+=(cpio)
    # The fleet lab (an sshd in front of the daemons; libvirt's ssh transport runs nc) and the Xen lab
    # (dom0's root is made with debootstrap; the tests reach dom0 with ssh).
    command -v ssh >/dev/null || need+=(openssh-client)
    [ -x /usr/sbin/sshd ] || need+=(openssh-server)
    command -v nc >/dev/null || need+=(netcat-openbsd)
    command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
fi
if [ ${#need[@]} -gt 0 ]; then
    echo "setup: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ "${XENTUI_LAB:-1}" = 1 ]; then
    # What the lab's privileged libvirtd expects of a Debian host (libvirt-daemon-system would do this).
    getent group kvm >/dev/null || groupadd -r kvm
    getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
    id libvirt-qemu >/dev/null 2>&1 || useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
    mkdir -p /run/libvirt /var/log/libvirt
    # A root-only /dev/kvm makes libvirt re-probe QEMU on every lookup (~50 s per guest start): set the
    # group and mode Debian's udev rule gives it.
    if [ -c /dev/kvm ] && [ "$(stat -c %a /dev/kvm)" = 600 ]; then chgrp kvm /dev/kvm && chmod 660 /dev/kvm; fi
fi

stamp="$VENV/.installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "setup: creating $VENV and installing xentui with its test tools" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip >/dev/null 2>&1 || true
    "$VENV/bin/pip" install -q -e '.[test]' 2>&1 | grep -v '^WARNING: Location' >&2 || true
    "$VENV/bin/python" -c 'import xentui, libvirt, textual, sexpdata' 
    touch "$stamp"
fi
