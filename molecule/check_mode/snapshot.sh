#!/bin/sh
# Prints what a run of site.yml could change on a node, sorted, so that two
# snapshots compare line by line: the packages, users and groups, unit files
# and units, the nftables ruleset, and every file of the root file system
# (type, mode, owner; size and mtime but for directories, whose new or removed
# entries show up as lines of their own). Left out: logs, Ansible's own temp
# files, and apt's binary caches, which python-apt rebuilds on any read of the
# package lists (the package module does that in check mode too).
echo "## packages"
dpkg-query --show --showformat='${Package} ${Version} ${db:Status-Abbrev}\n' | sort
echo "## users"
getent passwd | sort
getent group | sort
echo "## units"
systemctl list-unit-files --no-legend --no-pager | sort
systemctl list-units --all --no-legend --no-pager --plain | sort
echo "## nftables"
if command -v nft >/dev/null; then nft list ruleset; else echo "(nft not installed)"; fi
echo "## files"
find / -xdev \( -path /var/log -o -path /root/.ansible \
  -o -path /var/cache/apt/pkgcache.bin -o -path /var/cache/apt/srcpkgcache.bin \) -prune \
  -o -type d -printf '%p d %m %u:%g\n' -o -printf '%p %y %m %u:%g %s %T@\n' | sort
