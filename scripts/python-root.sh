#!/usr/bin/env bash
# A Debian root with the distro's own python3 and python3-libvirt, for running xentui's tests and the
# single file under that Python. Run by lab/pyroot.py, which caches the result by this script's content
# and the pinned requirements it installs.
#
#   python-root.sh SUITE OUT_DIR WHEELHOUSE REQUIREMENTS...
#
# The tests' own tools (pytest...) and xentui's pinned dependencies go into a venv inside the root made
# with --system-site-packages, so that the distro's libvirt binding is the one imported. They are
# installed from WHEELHOUSE (downloaded by the host's pip for this Python), not from the network.
set -euo pipefail
suite=$1
out=$2
wheels=$3
shift 3
root="$out/root"
mirror=${XENTUI_LAB_MIRROR:-$(awk '/^URIs:/ {print $2; exit} /^deb / {print $2; exit}' \
    /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null | head -n 1)}
mirror=${mirror:-http://deb.debian.org/debian}

rm -rf "$root"
mkdir -p "$root"
debootstrap --variant=minbase --include=python3,python3-venv,python3-libvirt,ca-certificates,tmux,ncurses-term,procps \
    "$suite" "$root" "$mirror" >"$out/debootstrap.log" 2>&1 || { tail -n 30 "$out/debootstrap.log" >&2; exit 1; }

mkdir -p "$root/src" "$root/req" "$root/wheels"
cp "$@" "$root/req/"
cp "$wheels"/* "$root/wheels/"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
in_root python3 -m venv --system-site-packages /opt/venv
reqs=()
for req in "$root"/req/*; do reqs+=(-r "/req/$(basename "$req")"); done
in_root /opt/venv/bin/pip install -q --disable-pip-version-check --no-index --find-links /wheels --upgrade pip \
    >>"$out/pip.log" 2>&1 || { tail -n 30 "$out/pip.log" >&2; exit 1; }
in_root /opt/venv/bin/pip install -q --disable-pip-version-check --no-index --find-links /wheels "${reqs[@]}" \
    >>"$out/pip.log" 2>&1 || { tail -n 30 "$out/pip.log" >&2; exit 1; }
in_root /opt/venv/bin/python -c 'import libvirt, textual, pytest'
# The `xentui` command the TUI tests start, for a checkout on PYTHONPATH (the root's /src is read-only).
printf '#!/opt/venv/bin/python\nimport sys\nfrom xentui.cli import main\nsys.exit(main())\n' >"$root/opt/venv/bin/xentui"
chmod 755 "$root/opt/venv/bin/xentui"
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/var/cache/apt/* "$root"/root/.cache "$root/wheels"
touch "$out/ready"
