#!/usr/bin/env bash
# Builds the Debian base images for molecule (systemd + python3), one per
# release of DEBIAN_RELEASES (lib.sh), with debootstrap and `docker import`:
# no image registry is reachable here.
#   base-image.sh            every release
#   base-image.sh trixie     only the named ones
# Each image is rebuilt only when it is missing or its package list changed
# (the list's hash is the image's hardened.nomad.packages label).
source "$(dirname "$0")/lib.sh"

# procps: testinfra's process checks; curl/openssl/netcat: the attack probes;
# python3-cryptography: our node-side key/CSR module; nftables: firewall role;
# sudo: site.yml uses become, as on real hosts. The same names on 11, 12 and 13.
PACKAGES="systemd,systemd-sysv,sudo,dbus,python3,python3-cryptography,python3-apt,iproute2,nftables,procps,curl,openssl,ca-certificates,netcat-openbsd,gnupg"
STAMP=$(printf '%s' "$PACKAGES" | sha256sum | cut -c1-12)
MIRROR=http://deb.debian.org/debian

build() {
  local codename=$1 image=$2 rootfs
  rootfs=$(mktemp -d "${TMPDIR:-/tmp}/hn-rootfs-$codename.XXXXXX")
  # shellcheck disable=SC2064  # expand now: the trap must clean this rootfs
  trap "umount '$rootfs/proc' 2>/dev/null || true; rm -rf '$rootfs' '$rootfs.log'" EXIT
  # Two stages: a bare minbase, then apt inside the chroot with /proc mounted
  # (postinst scripts such as python3-cryptography's fail in debootstrap's own pass).
  log "debootstrap $codename into $rootfs"
  debootstrap --variant=minbase "$codename" "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 \
    || { tail -20 "$rootfs.log" >&2; exit 1; }
  mount -t proc proc "$rootfs/proc"
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d" && chmod +x "$rootfs/usr/sbin/policy-rc.d"
  log "installing on $codename: $PACKAGES"
  # shellcheck disable=SC2086  # the package names are split on purpose
  chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${PACKAGES//,/ } \
    >"$rootfs.log" 2>&1 || { tail -20 "$rootfs.log" >&2; exit 1; }
  rm -f "$rootfs/usr/sbin/policy-rc.d"
  umount "$rootfs/proc"
  # Slim the image and keep systemd from starting units that make no sense in a container.
  chroot "$rootfs" apt-get clean
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
  for unit in getty.target systemd-remount-fs.service systemd-logind.service console-getty.service \
              systemd-firstboot.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer; do
    ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
  done
  : >"$rootfs/etc/machine-id"
  echo "deb $MIRROR $codename main" >"$rootfs/etc/apt/sources.list"

  log "importing as $image"
  tar -C "$rootfs" -c . | docker import \
    --change 'CMD ["/lib/systemd/systemd"]' \
    --change 'ENV container=docker' \
    --change "LABEL hardened.nomad.packages=$STAMP hardened.nomad.release=$codename" \
    - "$image" >/dev/null
  umount "$rootfs/proc" 2>/dev/null || true; rm -rf "$rootfs" "$rootfs.log"; trap - EXIT
  log "base image $image built"
}

wanted=${*:-$(debian_codenames)}
for codename in $wanted; do
  image=$(base_image "$codename") || { log "unknown release '$codename': one of $(debian_codenames)"; exit 1; }
  if [ "$(docker image inspect -f '{{ index .Config.Labels "hardened.nomad.packages" }}' "$image" 2>/dev/null)" = "$STAMP" ]; then
    log "base image $image is up to date"
    continue
  fi
  command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; }
  build "$codename" "$image"
done
