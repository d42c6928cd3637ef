#!/usr/bin/env bash
# Removes what the agent image never uses from a bookworm rootfs: the cluster postgresql-common created, apt lists,
# docs, man pages, locales, and the LLVM JIT (PostgreSQL runs without it; the agent sets jit=off).
set -euo pipefail
root=$1
chroot "$root" sh -c 'pg_lsclusters -h 2>/dev/null | while read -r v c _; do pg_dropcluster "$v" "$c"; done' || true
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/log/*
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/lintian
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'en*' -exec rm -rf {} + 2>/dev/null || true
rm -f "$root"/usr/lib/x86_64-linux-gnu/libLLVM-*.so* "$root"/usr/lib/postgresql/15/lib/llvmjit*.so
rm -rf "$root"/usr/lib/postgresql/15/lib/bitcode
# Perl is pulled in by postgresql-common's scripts only; the agent calls the binaries directly.
rm -rf "$root"/usr/share/perl "$root"/usr/lib/x86_64-linux-gnu/perl
