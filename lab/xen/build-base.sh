#!/usr/bin/env bash
# The Xen lab's boot files for one flavour (a Debian release and its Xen): the hypervisor, the dom0
# kernel, and dom0's root packed as a gzip cpio (Debian minbase with Xen's tools, QEMU's Xen device
# model for HVM guests, libvirt's xen driver, Debian's python3-libvirt, sshd). Run by lab/xen/image.py,
# which caches the result by this script's content and the flavour; xentui itself goes into a small
# second archive.
#
#   build-base.sh OUT_DIR SUITE XEN_VERSION      e.g. build-base.sh /tmp/out trixie 4.20
#
# Leaves OUT_DIR/xen (the hypervisor, uncompressed: QEMU's -kernel boots it as multiboot),
# OUT_DIR/vmlinuz and OUT_DIR/base.cpio.gz.
set -euo pipefail
out=$1
suite=$2
xenver=$3
root="$out/root"
mirror=${XENTUI_LAB_MIRROR:-$(awk '/^URIs:/ {print $2; exit} /^deb / {print $2; exit}' \
    /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null | head -n 1)}
mirror=${mirror:-http://deb.debian.org/debian}
packages=(
    "xen-utils-$xenver" "xen-hypervisor-$xenver-amd64" busybox kmod udev iproute2 procps openssh-server
    python3 python3-libvirt tmux ncurses-term libvirt-daemon libvirt-daemon-driver-xen libvirt-clients
    qemu-system-xen netcat-openbsd less
)

log="$out/debootstrap.log"
fail() { tail -n 30 "$log" >&2; exit 1; }
# Runs in the root with /proc mounted in a private mount namespace: the mount goes away with it.
in_root() { unshare -m sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$root" "$@"; }

rm -rf "$root"
mkdir -p "$root"
debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$log" 2>&1 || fail
# The packages through the root's own apt rather than debootstrap's --include: Debian 12's debootstrap
# installs trixie's systemd (pulled in by udev) before configuring libsystemd-shared, which systemd
# pre-depends on, and gives up. No daemon may start in the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
in_root apt-get update -q >>"$log" 2>&1 || fail
DEBIAN_FRONTEND=noninteractive in_root apt-get install -y -q --no-install-recommends "${packages[@]}" >>"$log" 2>&1 ||
    fail
rm "$root/usr/sbin/policy-rc.d"

# The hypervisor comes from the root's own package (it ships it gzipped); /boot is not needed in dom0.
gunzip -c "$(ls "$root"/boot/xen-"$xenver"*-amd64.gz | head -n 1)" >"$out/xen"

# The kernel of the same release, fetched by the new root's apt: the host's apt knows only its own
# release. Its modules go into the root; the biggest trees (graphics, wireless, sound, media,
# InfiniBand...) are left out: dom0 here needs none of them.
kpkg=$(in_root apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
[ -n "$kpkg" ] || { echo "no linux-image-amd64 in $suite" >&2; exit 1; }
in_root sh -c "cd /tmp && apt-get download -q $kpkg" >>"$log" 2>&1 || fail
dpkg-deb -x "$(ls "$root"/tmp/"$kpkg"_*.deb)" "$out/kernel"
cp "$(ls "$out"/kernel/boot/vmlinuz-* | head -n 1)" "$out/vmlinuz"
# bookworm's kernel package installs its modules under /lib/modules, trixie's under /usr/lib/modules.
moddir="$out/kernel/usr/lib/modules"
[ -d "$moddir" ] || moddir="$out/kernel/lib/modules"
kver=$(ls "$moddir")
mkdir -p "$root/usr/lib/modules"
cp -a "$moddir/$kver" "$root/usr/lib/modules/"
for tree in drivers/gpu drivers/net/wireless drivers/media drivers/infiniband drivers/staging sound net/wireless net/mac80211 drivers/bluetooth net/bluetooth drivers/iio drivers/hid drivers/input/touchscreen drivers/scsi; do
    rm -rf "$root/usr/lib/modules/$kver/kernel/$tree"
done
chroot "$root" depmod "$kver"
rm -rf "$out/kernel" "$root"/tmp/*.deb "$root"/boot/*

# libvirt: only the xen driver (the QEMU driver wants a libvirt-qemu user and is of no use here), and a
# CPU model that matches the lab's emulated CPU (see x86_xentui-lab.xml for why).
rm -f "$root"/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so
cp "$(dirname "$0")/x86_xentui-lab.xml" "$root/usr/share/libvirt/cpu_map/"
sed -i "s|<include filename='x86_486.xml'/>|&\n    <include filename='x86_xentui-lab.xml'/>|" "$root/usr/share/libvirt/cpu_map/index.xml"
grep -q x86_xentui-lab "$root/usr/share/libvirt/cpu_map/index.xml"

# Trim what a RAM-backed root does not need.
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/* "$root"/var/cache/apt/* \
    "$root"/var/lib/apt/lists/*
rm -f "$root"/etc/ssh/ssh_host_*  # made at boot, so that no two labs share a host key

(cd "$root" && find . -xdev | cpio -o -H newc --quiet | gzip -1 >"$out/base.cpio.gz.tmp")
mv "$out/base.cpio.gz.tmp" "$out/base.cpio.gz"
du -sh "$root" "$out/base.cpio.gz" >&2
rm -rf "$root"
