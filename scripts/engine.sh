#!/usr/bin/env bash
# Makes a Docker engine answer on this machine, able to run --privileged containers (kind nodes).
# usage: engine.sh   (idempotent: a second run changes nothing and restarts nothing)
# Exit 2 with one line on stderr when something it cannot fix fails.
#
# Why a runc wrapper: when this machine's capability bounding set lacks some capability the
# kernel knows (here CAP_SYS_RESOURCE), dockerd still asks runc to grant every capability to a
# privileged container, and runc fails with "unable to apply caps: operation not permitted".
# The wrapper deletes exactly the missing capabilities from the OCI spec, then execs real runc.
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

DAEMON_JSON=/etc/docker/daemon.json
WRAPPER=/usr/local/libexec/kube-netcheck/runc-dropcaps
RUNTIME=knc-dropcaps
DOCKERD_LOG=/var/log/kube-netcheck-dockerd.log
START_TIMEOUT="${KNC_DOCKERD_TIMEOUT:-90}"

# Capability names by number (linux/capability.h), used to name what CapBnd lacks.
CAPS=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP
  LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER
  SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE
  SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP
  MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF
  CHECKPOINT_RESTORE)

# Prints the capabilities the kernel knows but our bounding set lacks, one per line.
missing_caps() {
  local bnd last i
  bnd=$((16#$(awk '/^CapBnd:/ {print $2}' /proc/self/status)))
  last=$(</proc/sys/kernel/cap_last_cap)
  for ((i = 0; i <= last; i++)); do
    ((bnd >> i & 1)) && continue
    [[ -n "${CAPS[i]:-}" ]] || die "capability number $i is missing from CapBnd and has no known name"
    echo "CAP_${CAPS[i]}"
  done
}

# have CMD: CMD is on PATH and executable (bash's `command -v` also reports non-executable files).
have() { local p; p="$(command -v "$1")" && [[ -x "$p" ]]; }

# Our own temporary policy-rc.d keeps package scripts from starting dockerd before it is configured.
POLICY_RC=/usr/sbin/policy-rc.d
trap '[[ -f "$POLICY_RC" ]] && grep -q kube-netcheck "$POLICY_RC" && rm -f "$POLICY_RC"' EXIT
apt_install() {
  have apt-get || die "cannot install $*: apt-get not found"
  [[ -e "$POLICY_RC" ]] || { printf '#!/bin/sh\n# kube-netcheck: no service starts during install\nexit 101\n' >"$POLICY_RC"
    chmod +x "$POLICY_RC"; }
  local out="$KNC_CACHE/apt-install.log"
  log "apt-get install $* (log: $out)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "$@" >"$out" 2>&1 \
    || { apt-get update -q >>"$out" 2>&1 && apt-get install -y -q --no-install-recommends "$@" >>"$out" 2>&1; } \
    || die "apt-get install $* failed: $(tail -n 1 "$out")"
}

find_runc() {
  local p
  for p in /usr/sbin/runc /usr/bin/runc "$(command -v runc || true)"; do
    [[ -n "$p" && -x "$p" && "$p" != "$WRAPPER" ]] && { echo "$p"; return; }
  done
  die "no runc binary found (expected /usr/sbin/runc from Debian's runc package)"
}

# write_if_changed FILE MODE: stdin -> FILE; returns 0 when FILE changed.
write_if_changed() {
  local new; new="$(cat)"
  [[ -f "$1" && "$(cat "$1")" == "$new" ]] && return 1
  mkdir -p "$(dirname "$1")"
  printf '%s\n' "$new" >"$1.knc-tmp" && chmod "$2" "$1.knc-tmp" && mv "$1.knc-tmp" "$1"
}

# install_wrapper CAP...: (re)writes the wrapper; returns 0 when it changed. Needs REAL_RUNC, JQ.
install_wrapper() {
  local drop; drop="$(printf '%s\n' "$@" | jq -R . | jq -sc .)"
  write_if_changed "$WRAPPER" 755 <<EOF
#!/bin/bash
# Written by kube-netcheck scripts/engine.sh: docker's default runtime on this machine.
# This machine's bounding set lacks $*, which runc cannot grant: drop them from every
# capability set of the spec (create/run: bundle config.json; exec: --process file).
set -euo pipefail
REAL_RUNC=$REAL_RUNC
JQ=$JQ
DROP='$drop'
strip() { # strip FILE JQ_PATH: removes DROP from every list under JQ_PATH in FILE
  local out
  out="\$("\$JQ" --argjson d "\$DROP" "if \$2 then \$2 |= map_values(if type == \"array\" then . - \\\$d else . end) else . end" "\$1")"
  printf '%s\n' "\$out" >"\$1"
}
args=("\$@") i=0 cmd=
while ((i < \${#args[@]})); do # skip runc's global options to find the command
  case "\${args[i]}" in
    --root | --log | --log-format | --criu | --rootless) i=\$((i + 2)) ;;
    -*) i=\$((i + 1)) ;;
    *) cmd="\${args[i]}"; break ;;
  esac
done
bundle=. process=
for ((j = i + 1; j < \${#args[@]}; j++)); do
  case "\${args[j]}" in
    --bundle | -b) bundle="\${args[j + 1]:-.}" ;;
    --bundle=*) bundle="\${args[j]#*=}" ;;
    --process | -p) process="\${args[j + 1]:-}" ;;
    --process=*) process="\${args[j]#*=}" ;;
  esac
done
case "\$cmd" in
  create | run) strip "\$bundle/config.json" .process.capabilities ;;
  exec) [[ -z "\$process" ]] || strip "\$process" .capabilities ;;
esac
exec "\$REAL_RUNC" "\$@"
EOF
}

# merge_config JSON: deep-merges JSON into daemon.json, keeping other keys; returns 0 when changed.
merge_config() {
  local cur=$'{}\n'
  [[ -s "$DAEMON_JSON" ]] && { cur="$(jq -S . "$DAEMON_JSON")" || die "$DAEMON_JSON is not valid JSON"; }
  jq -S --argjson d "$1" '. * $d' <<<"$cur" | write_if_changed "$DAEMON_JSON" 644
}

docker_ok() { docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; }

# Polls `docker info` until it answers, dockerd dies, or the deadline passes.
wait_docker() {
  local deadline=$((SECONDS + START_TIMEOUT)) last pid
  until last="$(docker info --format '{{.ServerVersion}}' 2>&1)"; do
    pid="$(cat /var/run/docker.pid 2>/dev/null || true)"
    # Give up early when neither the dockerd we started nor the one in the pid file lives.
    if ((SECONDS >= deadline)) || { [[ -n "${1:-}" ]] && ! kill -0 "$1" 2>/dev/null \
      && ! { [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; }; }; then
      last="$(tr -s '\n' ' ' <<<"$last")"
      die "awaited \`docker info\` for $START_TIMEOUT s (dockerd pid ${pid:-none}): last answer:${last}; $DOCKERD_LOG ends: $(tail -n 3 "$DOCKERD_LOG" 2>/dev/null | cut -c1-200 | tr '\n' '|')"
    fi
    sleep 0.5
  done
}

desired_config() { # the daemon.json keys this script owns
  local caps=("$@")
  # Published ports bind to loopback unless a -p says otherwise: nothing listens on other interfaces.
  local cfg='{"ip": "127.0.0.1"}'
  ((${#caps[@]})) && cfg="$(jq -c --arg rt "$RUNTIME" --arg p "$WRAPPER" \
    '. + {runtimes: {($rt): {path: $p}}, "default-runtime": $rt}' <<<"$cfg")"
  echo "$cfg"
}

missing_list="$(missing_caps)"
mapfile -t missing < <(printf '%s' "$missing_list")
if ((${#missing[@]})); then log "bounding set lacks: ${missing[*]}"; else log "bounding set is complete: no runc wrapper needed"; fi

# Each kind node runs systemd, containerd and kubelet, which all take inotify instances (a per-user
# limit shared by every container of root): with Debian's default of 128, the third cluster's nodes
# die at boot ("Failed to create control group inotify object: Too many open files"). Raise the
# limits to the values kind's known-issues page gives (only ever upwards).
raise_sysctl() { local cur; cur="$(sysctl -n "$1" 2>/dev/null || echo 0)"
  ((cur >= $2)) || { sysctl -qw "$1=$2" && log "sysctl $1: $cur -> $2 (kind nodes)"; } || log "could not raise sysctl $1 from $cur to $2"; }
raise_sysctl fs.inotify.max_user_instances 512
raise_sysctl fs.inotify.max_user_watches 524288

# Debian's shellcheck is for scripts/lint.sh (run by the unit tests), not the engine: never fatal here.
have shellcheck || (apt_install shellcheck) || log "could not install Debian's shellcheck: scripts/lint.sh will try again"

if docker_ok; then
  # An engine answers: only see that privileged containers can start (no restart: SIGHUP reloads runtimes).
  ((${#missing[@]})) || { log "docker engine answers; nothing to do"; exit 0; }
  have jq || apt_install jq
  # one assignment per line: a die inside $(...) then stops the script (the status of a line
  # with several assignments is that of the last one)
  REAL_RUNC="$(find_runc)"
  JQ="$(command -v jq)"
  changed=
  install_wrapper "${missing[@]}" && changed=1
  cfg="$(desired_config "${missing[@]}" | jq -c 'del(.ip)')"
  merge_config "$cfg" && changed=1
  if [[ -n "$changed" ]]; then
    pid="$(cat /var/run/docker.pid 2>/dev/null)" || die "docker answers but /var/run/docker.pid is missing: cannot reload it"
    log "reloading dockerd (pid $pid) for runtime $RUNTIME"
    kill -HUP "$pid"
  fi
  deadline=$((SECONDS + 20))
  until [[ "$(docker info --format '{{.DefaultRuntime}}' 2>/dev/null)" == "$RUNTIME" ]]; do
    ((SECONDS < deadline)) || die "dockerd did not take default-runtime $RUNTIME within 20 s (is it configured by $DAEMON_JSON?)"
    sleep 0.5
  done
  log "docker engine answers; default runtime $RUNTIME"
  exit 0
fi

if ! { have dockerd && have jq && have iptables; }; then apt_install docker.io iptables jq; fi
REAL_RUNC="$(find_runc)"
JQ="$(command -v jq)"
if ((${#missing[@]})); then install_wrapper "${missing[@]}" || true; fi
cfg="$(desired_config "${missing[@]}")"
merge_config "$cfg" || true

if [[ "$(ps -p 1 -o comm= 2>/dev/null || cat /proc/1/comm)" == systemd && -d /run/systemd/system ]]; then
  log "starting docker via systemd"
  systemctl restart docker || die "systemctl restart docker failed: see journalctl -u docker"
  wait_docker
else
  pid="$(cat /var/run/docker.pid 2>/dev/null || true)"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    # a dockerd that is still starting answers soon; one that is shutting down exits: then start anew
    log "dockerd (pid $pid) is running but not answering yet: waiting up to 60 s for it to answer or exit"
    for _ in $(seq 1 600); do
      docker info >/dev/null 2>&1 && break
      kill -0 "$pid" 2>/dev/null || { log "dockerd (pid $pid) exited"; pid=""; break; }
      sleep 0.1
    done
  fi
  if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
    log "starting dockerd (log: $DOCKERD_LOG)"
    # Own session: dockerd outlives this script and the shell that ran it.
    (cd / && exec setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null) &
    pid=$!
  fi
  wait_docker "$pid"
fi
log "docker engine answers: server $(docker info --format '{{.ServerVersion}} storage={{.Driver}} cgroup={{.CgroupDriver}} runtime={{.DefaultRuntime}}')"
