#!/bin/sh
# Container entrypoint: make an arbitrary UID usable, then run the agent.
#
# OpenShift's restricted SCC (and any runAsUser) can start the container as a UID that has no passwd entry.
# initdb refuses to run without one ("could not look up effective user ID") and Node's os.userInfo() throws, so
# when the entry is missing we give the process one through nss_wrapper: a passwd copy in /tmp that includes the
# current UID. Nothing in the image has to be writable for this, so a read-only root filesystem works.
set -eu

uid=$(id -u)
gid=$(id -g)
if ! getent passwd "$uid" >/dev/null 2>&1; then
  wrapper=$(ls /usr/lib/*/libnss_wrapper.so /usr/lib/libnss_wrapper.so 2>/dev/null | head -n 1 || true)
  if [ -z "$wrapper" ]; then
    echo "pgha-entrypoint: UID $uid has no passwd entry and libnss_wrapper.so is missing from the image" >&2
    exit 1
  fi
  dir=$(mktemp -d /tmp/pgha-nss.XXXXXX)
  cp /etc/passwd "$dir/passwd"
  cp /etc/group "$dir/group"
  echo "pgha:x:$uid:$gid:pgha agent:${HOME:-/var/lib/pgha}:/bin/sh" >> "$dir/passwd"
  export NSS_WRAPPER_PASSWD="$dir/passwd" NSS_WRAPPER_GROUP="$dir/group" LD_PRELOAD="$wrapper"
fi

# `pgha agent ...`, `pgha list`, ... by default; any other program on PATH (sh, psql, initdb) runs as given, with the
# same passwd fix, which is what debugging in a running pod needs.
if [ $# -gt 0 ] && command -v "$1" >/dev/null 2>&1; then
  exec "$@"
fi
exec /usr/local/bin/pgha "$@"
