/**
 * The fence watchdog, a bash loop of its own beside the agent (a few MB, against about 50 MB for a second Node
 * runtime), so a frozen agent (stopped, stuck, swapped out) can never leave its PostgreSQL taking writes after its
 * lease. The agent writes the lease deadline into the fence file (`fence-state.ts`); when the deadline passes while
 * a primary runs on the data directory (a postmaster without standby.signal), the watchdog SIGKILLs PostgreSQL's
 * whole process group at once, so no backend can acknowledge another commit. It needs nothing from the agent at that
 * moment: no event loop, no API. Only bash builtins run in the loop (no process is started per check).
 *
 *   bash fence-watchdog.sh <fence-file> <data-dir> <agent-pid>
 *
 * Times are centiseconds of CLOCK_BOOTTIME (`/proc/uptime`), which the agent reads when it writes the file. It
 * exits once its agent is gone and nothing is left to fence, or when a newer agent owns the file. (The `$(...)` in
 * the loop is bash arithmetic, evaluated without starting a process.)
 */
export const WATCHDOG_SCRIPT = `#!/bin/bash
set -u
export TZ=UTC   # the log's timestamps end in Z
fence=$1 data=$2 agent=$3
poll=25   # centiseconds between checks while the deadline is further away

log() { printf '{"ts":"%(%Y-%m-%dT%H:%M:%S)TZ","level":"%s","component":"fence-watchdog","msg":"%s","dataDir":"%s"%s}\\n' -1 "$1" "$2" "$data" "$3"; }

# A pipe nobody writes to: "read -t" on it is a sleep without starting a process.
tick=$(mktemp -u "\${TMPDIR:-/tmp}/pgha-fence-tick.XXXXXX") && mkfifo -m 0600 "$tick" && exec 9<>"$tick" && rm -f "$tick" || exit 1

now() { local up _; read -r up _ < /proc/uptime; now=$(( 10#\${up%.*}\${up#*.} )); }

# The fence file (see fence-state.ts); anything unreadable counts as armed with a deadline already passed, unless
# no agent ever wrote it.
read_fence() {
  local magic version pid mode when
  owner=0 armed=1 deadline=0
  if ! read -r magic version pid mode when 2>/dev/null < "$fence"; then
    [ -e "$fence" ] || armed=0
    return 0
  fi
  if [ "$magic $version" != "pgha-fence 2" ] || [[ ! $pid =~ ^[0-9]+$ ]]; then return 0; fi
  owner=$pid
  if [ "$mode" = off ]; then armed=0; elif [ "$mode" = armed ] && [[ $when =~ ^[0-9]+$ ]]; then deadline=$when; fi
  return 0
}

# The postmaster running as a primary on the data directory, or nothing. A standalone backend (crash recovery in
# single-user mode) writes a negative PID; a standby has standby.signal.
primary() {
  local pid comm
  pm=
  read -r pid 2>/dev/null < "$data/postmaster.pid" || return 0
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  read -r comm 2>/dev/null < "/proc/$pid/comm" || return 0
  [[ $comm == postgres* || $comm == postmaster* ]] || return 0
  [ -e "$data/standby.signal" ] && return 0
  pm=$pid
}

log info "fence watchdog watching" ',"agentPid":'"$agent"
trap 'exit 0' TERM INT
while :; do
  read_fence
  now
  primary
  expired=$(( armed && now >= deadline ))
  if [ -n "$pm" ] && [ "$expired" = 1 ]; then
    # The postmaster leads its own process group: every backend goes in the same instant.
    kill -KILL -- "-$pm" 2>/dev/null || kill -KILL "$pm" 2>/dev/null
    log error "lease expired with postgres running as a primary; killed it" ',"pid":'"$pm"
  fi
  if ! kill -0 "$agent" 2>/dev/null; then
    # The agent is gone: a newer one owns the file (and has a watchdog of its own), or nothing is left to fence.
    if [ "$owner" != "$agent" ] || [ -z "$pm" ] || [ "$armed" = 0 ] || [ "$expired" = 1 ]; then exit 0; fi
  fi
  wait=$poll
  if [ "$armed" = 1 ] && [ "$deadline" -gt "$now" ] && [ $(( deadline - now )) -lt "$poll" ]; then wait=$(( deadline - now )); fi
  read -r -t "$(( wait / 100 )).$(( wait % 100 / 10 ))$(( wait % 10 ))" -u 9 _ || true
done
`;
