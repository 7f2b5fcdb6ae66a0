#!/usr/bin/env bash
# The Xen lab's dom0 root, packed as a gzip cpio: Debian 12 minbase with Xen 4.17's tools, QEMU's Xen
# device model (for HVM guests), libvirt's xen driver, sshd and Python. Run by lab/xen/image.py, which
# caches the result by this script's content; xentui itself goes into a small second archive.
#
#   build-base.sh OUT_DIR KERNEL_DEB
set -euo pipefail
out=$1
kernel_deb=$2
root="$out/root"
mirror=${XENTUI_LAB_MIRROR:-$(awk '/^URIs:/ {print $2; exit} /^deb / {print $2; exit}' \
    /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null | head -n 1)}
mirror=${mirror:-http://deb.debian.org/debian}

rm -rf "$root"
mkdir -p "$root"
debootstrap --variant=minbase \
    --include=xen-utils-4.17,busybox,kmod,udev,iproute2,procps,openssh-server,python3,tmux,ncurses-term,libvirt-daemon,libvirt-daemon-driver-xen,libvirt-clients,qemu-system-xen,netcat-openbsd,less \
    bookworm "$root" "$mirror" >"$out/debootstrap.log" 2>&1 || { tail -n 30 "$out/debootstrap.log" >&2; exit 1; }

# The dom0 kernel's modules, from the same package as the kernel the lab boots; the biggest trees
# (graphics, wireless, sound, media, InfiniBand) are left out: dom0 here needs none of them.
dpkg-deb -x "$kernel_deb" "$out/kernel"
kver=$(ls "$out/kernel/lib/modules")
mkdir -p "$root/lib/modules"
cp -a "$out/kernel/lib/modules/$kver" "$root/lib/modules/"
for tree in drivers/gpu drivers/net/wireless drivers/media drivers/infiniband drivers/staging sound net/wireless net/mac80211 drivers/bluetooth net/bluetooth drivers/iio drivers/hid drivers/input/touchscreen drivers/scsi; do
    rm -rf "$root/lib/modules/$kver/kernel/$tree"
done
chroot "$root" depmod "$kver"
rm -rf "$out/kernel"

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
