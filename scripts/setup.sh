#!/usr/bin/env bash
# Set-up on a fresh Debian machine (as root), quiet and quick when everything is already there.
#
#   setup.sh run    what running xentui needs: python3-venv and the distro's libvirt binding
#                   (python3-libvirt), and a project venv that sees it (--system-site-packages)
#   setup.sh test   that, the test tools in the venv, and what the labs need (QEMU, libvirtd, sshd, nc,
#                   debootstrap, tmux...); XENTUI_LAB=0 leaves the labs' packages out
#
# Why python3-libvirt and not libvirt-python from PyPI: that one is compiled at install time (gcc,
# libvirt-dev, pkg-config on a production dom0) and must match the host's libvirt; the distro's package
# is built for it, updated with it, and the same one the single file dist/xentui.pyz uses.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
# The distro's Python: its dist-packages hold python3-libvirt (a python3 earlier in PATH, e.g. pyenv's, has
# other site-packages).
PY=${XENTUI_PYTHON:-/usr/bin/python3}
mode=${1:-run}
case "$mode" in run | test) ;; *) echo "usage: $0 run|test" >&2; exit 2 ;; esac

need=()
[ -x "$PY" ] || need+=(python3)
"$PY" -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
"$PY" -c 'import libvirt' 2>/dev/null || need+=(python3-libvirt)
if [ "$mode" = test ] && [ "${XENTUI_LAB:-1}" = 1 ]; then
    # For the test suite's real libvirt lab (QEMU guests under the embedded driver) and the TUI smoke test.
    command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
    [ -e /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so ] || need+=(libvirt-daemon-driver-qemu)
    command -v virtlogd >/dev/null || need+=(libvirt-daemon)
    command -v virsh >/dev/null || need+=(libvirt-clients)
    command -v tmux >/dev/null || need+=(tmux)
    [ -x /bin/busybox ] || need+=(busybox-static)
    command -v cpio >/dev/null || need+=(cpio)
    # The fleet lab (an sshd in front of the daemons; libvirt's ssh transport runs nc), the Xen lab and
    # the Python roots (made with debootstrap; the tests reach dom0 with ssh).
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

if [ -f "$VENV/pyvenv.cfg" ] && grep -q '^include-system-site-packages = false' "$VENV/pyvenv.cfg"; then
    # A venv made before the distro's binding was used: let it see the system's packages.
    sed -i 's/^include-system-site-packages = false/include-system-site-packages = true/' "$VENV/pyvenv.cfg"
fi
stamp="$VENV/.installed-$mode"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    [ -x "$VENV/bin/python" ] || { echo "setup: creating $VENV" >&2; "$PY" -m venv --system-site-packages "$VENV"; }
    extra=""
    if [ "$mode" = test ]; then extra="[test]"; fi
    echo "setup: installing xentui$extra into $VENV" >&2
    "$VENV/bin/pip" install -q --upgrade pip >/dev/null 2>&1 || true
    "$VENV/bin/pip" install -q -e ".$extra" 2>&1 | grep -v '^WARNING: Location' >&2 || true
    "$VENV/bin/python" -c 'import xentui, libvirt, textual, sexpdata'
    touch "$stamp"
    if [ "$mode" = test ]; then touch "$VENV/.installed-run"; fi
fi
