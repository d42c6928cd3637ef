#!/usr/bin/env bash
# Packs one static binary as a single-layer OCI image archive that `ctr images import` reads:
#   make-oci-archive.sh BINARY IMAGE-NAME OUT.tar
# The binary becomes /pause, the entrypoint. No registry or image builder is needed.
set -euo pipefail
binary=$1 name=$2 out=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root" "$work/layout/blobs/sha256"
install -m 0755 "$binary" "$work/root/pause"
# A reproducible layer: fixed owner and time.
tar -C "$work/root" --numeric-owner --owner=0 --group=0 --mtime='2000-01-01' -cf "$work/layer.tar" pause
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
gzip -n -9 -c "$work/layer.tar" > "$work/layer.tar.gz"
blob() { # file -> prints "digest size", stores the blob
  local d s; d=$(sha256sum "$1" | cut -d' ' -f1); s=$(stat -c %s "$1")
  cp "$1" "$work/layout/blobs/sha256/$d"; echo "$d $s"
}
read -r layer_digest layer_size < <(blob "$work/layer.tar.gz")
printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/pause"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$diff_id" > "$work/config.json"
read -r config_digest config_size < <(blob "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$config_digest" "$config_size" "$layer_digest" "$layer_size" > "$work/manifest.json"
read -r manifest_digest manifest_size < <(blob "$work/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
  "$manifest_digest" "$manifest_size" "$name" "$name" > "$work/layout/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$work/layout/oci-layout"
tar -C "$work/layout" --numeric-owner --owner=0 --group=0 --mtime='2000-01-01' -cf "$out.part" oci-layout index.json blobs
mv "$out.part" "$out"
