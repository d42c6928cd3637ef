#!/usr/bin/env bash
# Runs a command inside the network namespace the caller created (`unshare -n`), after giving its loopback the two
# TEST-NET-1 addresses the API servers bind to. Endpoints validation rejects 127.0.0.0/8, so `default/kubernetes`
# can only list real-looking addresses, and these never leave the namespace.
set -euo pipefail
ip link set lo up
ip addr add 192.0.2.1/32 dev lo
ip addr add 192.0.2.2/32 dev lo
exec "$@"
