#!/usr/bin/env bash
# Builds the Debian 12 base image for molecule (systemd + python3) with
# debootstrap and `docker import`: no image registry is reachable here.
# Rebuilt only when the image is missing or the package list below changed.
source "$(dirname "$0")/lib.sh"

# procps: testinfra's process checks; curl/openssl/netcat: the attack probes;
# python3-cryptography: our node-side key/CSR module; nftables: firewall role;
# sudo: site.yml uses become, as on real hosts.
PACKAGES="systemd,systemd-sysv,sudo,dbus,python3,python3-cryptography,python3-apt,iproute2,nftables,procps,curl,openssl,ca-certificates,netcat-openbsd,gnupg"
STAMP=$(printf '%s' "$PACKAGES" | sha256sum | cut -c1-12)

if [ "$(docker image inspect -f '{{ index .Config.Labels "hardened.nomad.packages" }}' "$BASE_IMAGE" 2>/dev/null)" = "$STAMP" ]; then
  log "base image $BASE_IMAGE is up to date"
  exit 0
fi
command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; }

ROOTFS=$(mktemp -d "${TMPDIR:-/tmp}/hn-rootfs.XXXXXX")
cleanup() { umount "$ROOTFS/proc" 2>/dev/null || true; rm -rf "$ROOTFS" "$ROOTFS.log"; }
trap cleanup EXIT
# Two stages: a bare minbase, then apt inside the chroot with /proc mounted
# (postinst scripts such as python3-cryptography's fail in debootstrap's own pass).
log "debootstrap bookworm into $ROOTFS"
debootstrap --variant=minbase bookworm "$ROOTFS" http://deb.debian.org/debian >"$ROOTFS.log" 2>&1 \
  || { tail -20 "$ROOTFS.log" >&2; exit 1; }
mount -t proc proc "$ROOTFS/proc"
printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d" && chmod +x "$ROOTFS/usr/sbin/policy-rc.d"
log "installing: $PACKAGES"
chroot "$ROOTFS" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${PACKAGES//,/ } >"$ROOTFS.log" 2>&1 \
  || { tail -20 "$ROOTFS.log" >&2; exit 1; }
rm -f "$ROOTFS/usr/sbin/policy-rc.d"
umount "$ROOTFS/proc"
# Slim the image and keep systemd from starting units that make no sense in a container.
chroot "$ROOTFS" apt-get clean
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/*
for unit in getty.target systemd-remount-fs.service systemd-logind.service console-getty.service \
            systemd-firstboot.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer; do
  ln -sf /dev/null "$ROOTFS/etc/systemd/system/$unit"
done
: >"$ROOTFS/etc/machine-id"
echo 'deb http://deb.debian.org/debian bookworm main' >"$ROOTFS/etc/apt/sources.list"

log "importing as $BASE_IMAGE"
tar -C "$ROOTFS" -c . | docker import \
  --change 'CMD ["/lib/systemd/systemd"]' \
  --change 'ENV container=docker' \
  --change "LABEL hardened.nomad.packages=$STAMP" \
  - "$BASE_IMAGE" >/dev/null
log "base image $BASE_IMAGE built"
