# shellcheck shell=bash
#
# lib.sh - shared settings and helpers for Warren's local RabbitMQ test clusters.
#
# Sourced (never executed) by tests/cluster/{up,down,node,seed,root}. WARREN_RABBITMQ picks
# the cluster (default 3.10); its names, ports and state folder come from tests/cluster/layout,
# the one file every script, test and benchmark reads (through layout.sh here): a 3-node 3.10
# cluster from the host's own package, a 3-node 4.3 cluster and a single 4.0 node.
#
# The 3.10 state lives under ${WARREN_CLUSTER_DIR:-<repo>/target/cluster}; a 4.x cluster runs
# chrooted in its root (tests/cluster/root, built by tests/setup) and keeps its state inside
# it (e.g. /srv/warren/4.3 there). In the state folder:
#   home/.erlang.cookie          private HOME + cookie shared by server and CLI
#   rabbitmq-env.conf            empty; stops /etc/rabbitmq/rabbitmq-env.conf
#                                (NODENAME=rabbit@localhost, ...) from leaking in
#   NODE/rabbitmq.conf           listeners (plain, and TLS where the layout has a "tls"
#                                line), management, loopback_users
#   NODE/enabled_plugins         [rabbitmq_management] (+ rabbitmq_auth_mechanism_ssl where
#                                the TLS listener requires client certificates)
#   tls/                         the test CA and certificates (tests/cluster/tls)
#   NODE/mnesia/ log/ NODE.pid   (NODE = the node name before the "@")
#
# The system RabbitMQ (rabbit@localhost on 5672) shares epmd (4369) with these
# nodes but nothing else; nothing here ever talks to it.
#
# We call /usr/lib/rabbitmq/bin/* directly: the /usr/sbin wrappers switch to
# the rabbitmq user and drop the environment.

WARREN_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
WARREN_REPO=$(git -C "$WARREN_LIB_DIR" rev-parse --show-toplevel 2>/dev/null ||
  (cd "$WARREN_LIB_DIR/../.." && pwd -P))
# shellcheck source-path=SCRIPTDIR source=layout.sh
source "$WARREN_LIB_DIR/layout.sh"

# ROOT is empty for the host's own RabbitMQ; for a 4.x version, the Debian root it runs in.
# CLUSTER_DIR is the state folder as this script sees it, inside() the same path as the
# chrooted broker sees it.
if [[ $SOURCE == host ]]; then
  ROOT=""
  RUN_IN=()
  CLUSTER_DIR=${WARREN_CLUSTER_DIR:-$WARREN_REPO/target/$STATE}
else
  # One place per machine, whoever runs the scripts (chroot needs root anyway).
  ROOTS_DIR=${WARREN_ROOTS_DIR:-/var/cache/warren}
  ROOT=$ROOTS_DIR/rabbitmq-$WARREN_RABBITMQ
  RUN_IN=(chroot "$ROOT")
  CLUSTER_DIR=$ROOT$STATE
fi
inside() { printf '%s\n' "${1#"$ROOT"}"; }
RABBIT_BIN=${WARREN_RABBIT_BIN:-/usr/lib/rabbitmq/bin}

NET_TICKTIME=10          # seconds; default 60 would make partitions slow to show
START_TIMEOUT=${WARREN_START_TIMEOUT:-180} # seconds per node boot
# Any python3 will do (stdlib only); the system one starts fastest.
PYTHON=${WARREN_PYTHON:-$(command -v /usr/bin/python3 || command -v python3 || echo python3)}
API_USER=guest
API_PASS=guest

# Private HOME for rabbitmq-server and rabbitmqctl (set only on those
# commands): Erlang reads the cookie from $HOME/.erlang.cookie, so server and
# CLI share it, and the caller's ~/.erlang.cookie is never touched.
RABBIT_HOME="$CLUSTER_DIR/home"
# Environment for the server and the CLI.
RABBITMQ_CONF_ENV_FILE=$(inside "$CLUSTER_DIR/rabbitmq-env.conf")
export RABBITMQ_CONF_ENV_FILE
export RABBITMQ_CTL_ERL_ARGS="-kernel net_ticktime $NET_TICKTIME"
export RABBITMQ_CTL_DIST_PORT_MIN=${CTL_PORTS%-*}
export RABBITMQ_CTL_DIST_PORT_MAX=${CTL_PORTS#*-}
export ERL_EPMD_ADDRESS=127.0.0.1
# Keep the CLI's own Erlang crash dumps out of the caller's cwd.
ERL_CRASH_DUMP=$(inside "$CLUSTER_DIR/cli_erl_crash.dump")
export ERL_CRASH_DUMP

SCRIPT_NAME=${0##*/}
_t0=$SECONDS

# ---------------------------------------------------------------- output ----

log() { printf '[%s %3ss] %s\n' "$SCRIPT_NAME" "$((SECONDS - _t0))" "$*"; }
warn() { log "WARNING: $*" >&2; }

# Print the tail of the given nodes' logs.
show_logs() {
  local n f
  for n in "$@"; do
    f=$(log_file "$n")
    [[ -f $f ]] || continue
    printf '\n----- last 30 lines of %s -----\n' "$f" >&2
    tail -n 30 "$f" >&2
  done
  for n in "$@"; do
    f="$(node_dir "$n")/log/startup.out"
    [[ -s $f ]] || continue
    printf '\n----- last 10 lines of %s -----\n' "$f" >&2
    tail -n 10 "$f" >&2
  done
}

# die MESSAGE [NODE...]: print MESSAGE and the given nodes' log tails; exit 1.
die() {
  local msg=$1
  shift
  log "ERROR: $msg" >&2
  (($#)) && show_logs "$@"
  exit 1
}

# For an ERR trap: report unexpected failures once, from the top-level shell
# (subshells just fail and let their parent's trap report).
on_err() {
  local rc=$? line=$1
  shift
  ((BASH_SUBSHELL == 0)) || exit "$rc"
  die "unexpected failure (exit $rc) at line $line of $SCRIPT_NAME" "$@"
}

# Serialise the scripts that change the cluster (up, down, node): a demo
# launcher and a test harness may well call `up` at the same time. The lock
# is fd 9 on $CLUSTER_DIR/.lock; ctl and with_node_env close it (and every other
# inherited descriptor) for what they run, or a detached VM (or an epmd it starts)
# would hold it for good.
lock_cluster() {
  mkdir -p "$CLUSTER_DIR"
  exec 9>"$CLUSTER_DIR/.lock"
  if ! flock -n 9; then
    log "waiting for another cluster script to finish (lock $CLUSTER_DIR/.lock)"
    flock -w 600 9 || die "could not get the cluster lock within 600s"
  fi
}

# ---------------------------------------------------------------- layout ----

check_node_arg() {
  [[ -n ${1-} && -n ${NODE_NAME[${1}]-} && ${1} =~ ^[0-9]+$ ]] ||
    { echo "node number must be one of ${NODES[*]} for RabbitMQ $WARREN_RABBITMQ (got '${1-}')" >&2; exit 2; }
}

node_name() { echo "${NODE_NAME[$1]}"; }
amqp_port() { echo "${AMQP_PORT[$1]}"; }
mgmt_port() { echo "${MGMT_PORT[$1]}"; }
dist_port() { echo "${DIST_PORT[$1]}"; }
node_dir() { echo "$CLUSTER_DIR/${NODE_NAME[$1]%@*}"; }
pid_file() { echo "$(node_dir "$1")/${NODE_NAME[$1]%@*}.pid"; }
log_file() { echo "$(node_dir "$1")/log/${NODE_NAME[$1]}.log"; }
# "5781-5783" or "5801": the version's AMQP or management ports, for messages.
port_span() {
  local -n ports=$1
  local first=${ports[${NODES[0]}]} last=${ports[${NODES[-1]}]}
  [[ $first == "$last" ]] && echo "$first" || echo "$first-$last"
}

# true if the version's broker is installed (always, for the host's own).
root_ready() {
  [[ -z $ROOT ]] || [[ -s $ROOT/.warren-rabbitmq-version && -x $ROOT$RABBIT_BIN/rabbitmq-server ]]
}

# For a version that runs in a root: die saying what to run if the root is not built; mount
# its /proc (the broker and its CLI need it) if it is not mounted yet.
prepare_root() {
  [[ -n $ROOT ]] || return 0
  root_ready || die "RabbitMQ $WARREN_RABBITMQ is not installed: its Debian root $ROOT is missing or incomplete. Build it (once per machine, about a minute, needs root and the Debian mirror) with: tests/setup   (or: tests/cluster/root $WARREN_RABBITMQ)"
  (($(id -u) == 0)) || die "RabbitMQ $WARREN_RABBITMQ runs chrooted in $ROOT: run this as root"
  mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc" || die "cannot mount $ROOT/proc"
}

# Create (or refresh) the cluster folder: cookie, env file, per-node config.
# Config files are rewritten every time; they only take effect on node boot.
ensure_layout() {
  local n dir cookie
  mkdir -p "$RABBIT_HOME"
  chmod 700 "$RABBIT_HOME"
  if [[ ! -s $RABBIT_HOME/.erlang.cookie ]]; then
    cookie=$(head -c 15 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
    (umask 077 && printf '%s' "WARREN${cookie}" >"$RABBIT_HOME/.erlang.cookie")
  fi
  chmod 400 "$RABBIT_HOME/.erlang.cookie"
  printf '# intentionally empty: isolates these nodes from /etc/rabbitmq/rabbitmq-env.conf\n' \
    >"$CLUSTER_DIR/rabbitmq-env.conf"
  if ((${#AMQPS_PORT[@]})); then
    "$WARREN_LIB_DIR/tls" "$CLUSTER_DIR/tls" | while read -r line; do log "$line"; done
  fi
  for n in "${NODES[@]}"; do
    dir=$(node_dir "$n")
    mkdir -p "$dir/mnesia" "$dir/log"
    cat >"$dir/rabbitmq.conf" <<EOF
# Generated by tests/cluster/lib.sh - edits are overwritten by tests/cluster/up.
listeners.tcp.default = 127.0.0.1:$(amqp_port "$n")
management.tcp.ip = 127.0.0.1
management.tcp.port = $(mgmt_port "$n")
loopback_users = none
# Default, spelled out: a paused/partitioned node stays visible as a partition
# (tests/cluster/node resume and tests/cluster/up heal it).
cluster_partition_handling = ignore
EOF
    tls_conf "$n" >>"$dir/rabbitmq.conf"
    if [[ ${CLIENT_CERT[n]-} == required ]]; then
      printf '[rabbitmq_management,rabbitmq_auth_mechanism_ssl].\n' >"$dir/enabled_plugins"
    else
      printf '[rabbitmq_management].\n' >"$dir/enabled_plugins"
    fi
  done
}

# tls_conf N: the rabbitmq.conf lines of node N's TLS listeners (nothing for a node the layout
# gives none). Paths as the broker sees them (inside its root for 4.x).
tls_conf() {
  local n=$1 tls
  [[ -n ${AMQPS_PORT[n]-} ]] || return 0
  tls=$(inside "$CLUSTER_DIR/tls")
  cat <<EOF
# TLS listeners (tests/cluster/layout "tls" lines; certificates from tests/cluster/tls).
listeners.ssl.default = 127.0.0.1:${AMQPS_PORT[n]}
ssl_options.cacertfile = $tls/ca.pem
ssl_options.certfile = $tls/server.pem
ssl_options.keyfile = $tls/server.key
ssl_options.verify = verify_peer
management.ssl.ip = 127.0.0.1
management.ssl.port = ${HTTPS_PORT[n]}
management.ssl.cacertfile = $tls/ca.pem
management.ssl.certfile = $tls/server.pem
management.ssl.keyfile = $tls/server.key
EOF
  if [[ ${CLIENT_CERT[n]} == required ]]; then
    cat <<EOF
# Mutual TLS: no certificate, no connection; EXTERNAL logs in the certificate's CN.
ssl_options.fail_if_no_peer_cert = true
auth_mechanisms.1 = PLAIN
auth_mechanisms.2 = AMQPLAIN
auth_mechanisms.3 = EXTERNAL
ssl_cert_login_from = common_name
EOF
  else
    printf 'ssl_options.fail_if_no_peer_cert = false\n'
  fi
}

# Run a command with node N's server environment (paths as the broker sees them).
with_node_env() {
  local n=$1
  shift
  local dir
  dir=$(inside "$(node_dir "$n")")
  HOME=$(inside "$RABBIT_HOME") \
    RABBITMQ_NODENAME=$(node_name "$n") \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT=$(amqp_port "$n") \
    RABBITMQ_DIST_PORT=$(dist_port "$n") \
    RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
    RABBITMQ_MNESIA_BASE="$dir/mnesia" \
    RABBITMQ_LOG_BASE="$dir/log" \
    RABBITMQ_PID_FILE=$(inside "$(pid_file "$n")") \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel net_ticktime $NET_TICKTIME -kernel inet_dist_use_interface {127,0,0,1}" \
    ERL_CRASH_DUMP="$dir/log/erl_crash.dump" \
    without_inherited_fds "${RUN_IN[@]}" "$@"
}

# Runs a command with only stdin, stdout and stderr open. A detached VM (or the epmd it
# starts) keeps every descriptor it inherits for its whole life: the cluster lock (fd 9), or
# a test harness's own lock (`flock ... cargo test`, whose tests restart nodes), would then be
# held for good.
without_inherited_fds() {
  (
    local fd
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      if ((fd > 2)); then eval "exec $fd>&-"; fi
    done
    exec "$@"
  )
}

# ------------------------------------------------------------------- CLI ----

# ctl N ARGS...: rabbitmqctl against node N, bounded by CTL_TIMEOUT seconds.
ctl() {
  local n=$1
  shift
  # An epmd started by this CLI must not inherit the lock (lock_cluster).
  HOME=$(inside "$RABBIT_HOME") without_inherited_fds timeout "${CTL_TIMEOUT:-90}" "${RUN_IN[@]}" "$RABBIT_BIN/rabbitmqctl" -q -n "$(node_name "$n")" "$@"
}

# ctlq N ARGS...: like ctl, but keeps the CLI's chatter (feature flag
# warnings etc.) to itself unless the command fails.
ctlq() {
  local out
  if out=$(ctl "$@" 2>&1); then
    return 0
  else
    local rc=$?
    printf '%s\n' "$out" >&2
    return "$rc"
  fi
}

# Evaluate an Erlang expression on node N and print the result.
ctl_eval() { CTL_TIMEOUT=${CTL_TIMEOUT:-20} ctl "$1" eval "$2"; }

# ------------------------------------------------------------- processes ----

# true if OS process $2 is node $1's VM of *this* cluster folder. RabbitMQ
# sets the node name at runtime (not on the command line), so look at the
# environment we gave it (guards against stale pid files, recycled pids and a
# same-named node started from another WARREN_CLUSTER_DIR).
is_node_vm() {
  [[ -n $2 && -r /proc/$2/environ ]] || return 1
  local env
  env=$(tr '\0' '\n' <"/proc/$2/environ" 2>/dev/null) || return 1
  [[ $'\n'$env$'\n' == *$'\n'"RABBITMQ_NODENAME=$(node_name "$1")"$'\n'* &&
    $'\n'$env$'\n' == *$'\n'"RABBITMQ_PID_FILE=$(inside "$(pid_file "$1")")"$'\n'* ]]
}

# Print the OS pid of node N's beam.smp if it is alive (paused counts as
# alive); return 1 otherwise. Taken from the pid file RabbitMQ writes, or
# else from whoever listens on the node's distribution port.
vm_pid() {
  local f pid=""
  f=$(pid_file "$1")
  [[ -r $f ]] && pid=$(tr -dc '0-9' <"$f")
  if ! is_node_vm "$1" "$pid"; then
    pid=$(ss -Hltnp "sport = :$(dist_port "$1")" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | tr -dc '0-9') || true
    is_node_vm "$1" "$pid" || return 1
  fi
  echo "$pid"
}

# up | paused | down  (paused = the VM is SIGSTOPped)
vm_state() {
  local pid st
  pid=$(vm_pid "$1") || { echo down; return; }
  st=$(ps -o stat= -p "$pid" 2>/dev/null) || { echo down; return; }
  case $st in
    T*) echo paused ;;
    Z*) echo down ;;
    *) echo up ;;
  esac
}

# Wait (up to $2 s, default 30) until pid $1 is gone.
wait_pid_gone() {
  local pid=$1 deadline=$((SECONDS + ${2:-30}))
  while kill -0 "$pid" 2>/dev/null; do
    # A zombie (reaped later by init) counts as gone.
    [[ $(ps -o stat= -p "$pid" 2>/dev/null) == Z* ]] && return 0
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# Refuse to start node N if one of its ports is taken by someone else.
check_ports_free() {
  local n=$1 port
  for port in "$(amqp_port "$n")" "$(mgmt_port "$n")" "$(dist_port "$n")" ${AMQPS_PORT[n]-} ${HTTPS_PORT[n]-}; do
    if [[ -n $(ss -Hltn "sport = :$port") ]]; then
      die "port $port (for $(node_name "$n")) is already in use: $(ss -Hltnp "sport = :$port" | head -1)" "$n"
    fi
  done
}

# Launch node N's VM in the background (-detached returns at once); the boot
# is finished by wait_booted. Output of the launcher goes to log/startup.out.
LAUNCHED_AT=()
launch_vm() {
  local n=$1 dir
  dir=$(node_dir "$n")
  check_ports_free "$n"
  rm -f "$(pid_file "$n")"
  # A fresh erl_crash.dump is how wait_booted spots a VM that died booting.
  if [[ -e $dir/log/erl_crash.dump ]]; then
    mv -f "$dir/log/erl_crash.dump" "$dir/log/erl_crash.dump.prev"
  fi
  LAUNCHED_AT[n]=$SECONDS
  log "starting $(node_name "$n") (amqp $(amqp_port "$n"), mgmt $(mgmt_port "$n"), dist $(dist_port "$n"))"
  (cd "$dir" && with_node_env "$n" "$RABBIT_BIN/rabbitmq-server" -detached) \
    >>"$dir/log/startup.out" 2>&1 ||
    die "rabbitmq-server -detached failed for $(node_name "$n")" "$n"
}

# wait_booted N: wait until the launched node N has booted, i.e. its
# management listener answers (the plugin starts once the broker's boot steps
# are done). Returns 1 if the VM died (it writes erl_crash.dump, or vanishes,
# or never shows up within 45 s), 2 after START_TIMEOUT. (Not `rabbitmqctl
# wait`: it kept waiting its full timeout for a VM that had crashed.)
wait_booted() {
  local n=$1 dir seen=false started=${LAUNCHED_AT[$1]:-$SECONDS}
  dir=$(node_dir "$n")
  while :; do
    if vm_pid "$n" >/dev/null; then
      seen=true
      mgmt_up "$n" && return 0
    elif $seen || ((SECONDS - started > 45)); then
      return 1
    fi
    [[ -e $dir/log/erl_crash.dump ]] && return 1
    ((SECONDS - started < START_TIMEOUT)) || return 2
    sleep 1
  done
}

# boot_launched: wait for every node in LAUNCHED. A node whose VM dies while
# booting is launched again (three times at most). Seen on 3.10.8 when restarting
# a stopped cluster: a node booting alongside its peers can crash in the
# feature-flag sync (incompatible_feature_flags / {badmap,undefined} from a
# peer that is itself still booting); a second launch succeeds.
boot_launched() {
  local n try rc pid
  for n in "${LAUNCHED[@]}"; do
    log "waiting for $(node_name "$n") to boot"
    for try in 1 2 3 4; do
      rc=0
      wait_booted "$n" || rc=$?
      ((rc == 0)) && continue 2
      ((rc == 2)) && die "$(node_name "$n") did not boot within ${START_TIMEOUT}s" "$n"
      ((try < 4)) || die "$(node_name "$n") died while booting, 4 times" "$n"
      log "$(node_name "$n") died while booting (see $(log_file "$n")); launching it again"
      # The dying VM first writes its crash dump; let it finish and exit so
      # that it frees its node name and ports.
      if pid=$(vm_pid "$n"); then
        wait_pid_gone "$pid" 60 || die "dying VM $pid of $(node_name "$n") does not exit" "$n"
      fi
      launch_vm "$n"
    done
  done
}

# true once the broker on node N has fully booted (false while booting or
# after stop_app; the VM must be up).
app_running() {
  [[ $(ctl_eval "$1" 'rabbit:is_booted().' 2>/dev/null) == true ]]
}

# ------------------------------------------------------------------ HTTP ----

# api METHOD N PATH [curl args...]: management API of node N, fails on HTTP errors.
api() {
  local method=$1 n=$2 path=$3
  shift 3
  curl -sS --fail-with-body -m "${HTTP_TIMEOUT:-15}" -u "$API_USER:$API_PASS" \
    -X "$method" -H 'content-type: application/json' \
    "http://127.0.0.1:$(mgmt_port "$n")$path" "$@"
}

# true if node N's management listener answers with valid credentials.
mgmt_up() { HTTP_TIMEOUT=3 api GET "$1" /api/whoami >/dev/null 2>&1; }

# true if node N's AMQP port accepts TCP connections.
amqp_up() { timeout 2 bash -c ": </dev/tcp/127.0.0.1/$(amqp_port "$1")" 2>/dev/null; }

# Warn about every TLS listener of the layout that does not accept connections: a node booted
# with an older configuration (before its "tls" line existed) has none until it restarts.
check_tls_listeners() {
  local n port missing=()
  for n in "${NODES[@]}"; do
    for port in ${AMQPS_PORT[n]-} ${HTTPS_PORT[n]-}; do
      timeout 2 bash -c ": </dev/tcp/127.0.0.1/$port" 2>/dev/null || missing+=("$(node_name "$n"):$port")
    done
  done
  ((${#missing[@]} == 0)) ||
    warn "TLS listeners not answering: ${missing[*]}; nodes booted before their TLS configuration get it on restart (tests/cluster/down, then up)"
}

# ------------------------------------------------------------ cluster view ---

# cluster_view N: node N's `cluster_status` digested into lines
#   member NODE | running NODE | partition NODE PEER | name NAME
cluster_view() {
  ctl "$1" cluster_status --formatter json 2>/dev/null | "$PYTHON" -c '
import json, sys
s = json.load(sys.stdin)
for n in s.get("disk_nodes", []) + s.get("ram_nodes", []):
    print("member", n)
for n in s.get("running_nodes", []):
    print("running", n)
parts = s.get("partitions") or {}
if isinstance(parts, dict):
    for n, peers in parts.items():
        for p in peers:
            print("partition", n, p)
print("name", s.get("cluster_name", ""))
'
}

# any_running_node [EXCLUDE]: the lowest-numbered node (other than EXCLUDE)
# whose VM runs and whose management API answers (so its rabbit app runs).
# Prints the number; returns 1 if none.
any_running_node() {
  local exclude=${1-} n
  for n in "${NODES[@]}"; do
    [[ $n == "$exclude" ]] && continue
    [[ $(vm_state "$n") == up ]] && mgmt_up "$n" && { echo "$n"; return 0; }
  done
  return 1
}

# Partition pairs "NODE PEER" as reported by every node whose VM is up
# (asked in parallel; a partitioned node's view differs from its peers').
all_partition_pairs() {
  local n tmp
  tmp=$(mktemp -d)
  for n in "${NODES[@]}"; do
    [[ $(vm_state "$n") == up ]] || continue
    cluster_view "$n" >"$tmp/$n" 2>/dev/null &
  done
  wait || true
  cat "$tmp"/* 2>/dev/null | awk '$1 == "partition" { print $2, $3 }'
  rm -rf "$tmp"
}

# After SIGCONT of a paused node N, wait (up to 30 s) until things settle:
# either N reports a partition, or N and a peer see each other running again
# (happens when the pause was shorter than net_ticktime).
settle_after_resume() {
  local n=$1 deadline=$((SECONDS + 30)) view peer
  while ((SECONDS < deadline)); do
    view=$(cluster_view "$n" 2>/dev/null) || { sleep 1; continue; }
    [[ $view == *partition* ]] && { log "$(node_name "$n") reports a partition"; return 0; }
    peer=$(any_running_node "$n") || return 0
    if [[ $(grep -c '^running ' <<<"$view") == "${#NODES[@]}" ]] &&
      [[ $(cluster_view "$peer" 2>/dev/null) == *"running $(node_name "$n")"* ]]; then
      return 0
    fi
    sleep 1
  done
}

# heal_partitions [N]: find partitions as seen from every running node and heal
# them by restarting the rabbit app (stop_app + start_app) of one node per
# round. With cluster_partition_handling = ignore RabbitMQ never does this by
# itself; restarting the nodes of the "losing" side is the documented manual
# recovery. N, when given, is the node that was cut off (the one paused): it is
# restarted first whenever it is part of a partition, because right after a
# resume not every node reports every pair yet and a count of pairs can point
# at a healthy node (restarting that one splits the cluster further). Without
# N the node in most pairs goes. After each restart the views get time to
# settle before the next round judges them.
heal_partitions() {
  local preferred=${1-} round pairs victim deadline
  for round in 1 2 3 4; do
    pairs=$(all_partition_pairs)
    [[ -n $pairs ]] || return 0
    victim=$(printf '%s' "$pairs" | PREFERRED=${preferred:+$(node_name "$preferred")} "$PYTHON" -c '
import os, sys, collections
pairs = {tuple(sorted(l.split())) for l in sys.stdin if l.strip()}
count = collections.Counter(n for p in pairs for n in p)
preferred = os.environ.get("PREFERRED")
if preferred and preferred in count:
    print(preferred.split("@")[0].split("-")[1])
elif count:
    # most pairs wins; on a tie prefer the highest-numbered node (not the seed)
    print(max(count, key=lambda n: (count[n], n)).split("@")[0].split("-")[1])
')
    [[ -n $victim ]] || return 0
    log "partition detected (round $round): restarting the app of $(node_name "$victim") to heal it"
    ctlq "$victim" stop_app || die "stop_app failed on $(node_name "$victim")" "$victim"
    ctlq "$victim" start_app || die "start_app failed on $(node_name "$victim")" "$victim"
    deadline=$((SECONDS + 15))
    while ((SECONDS < deadline)); do
      [[ -n $(all_partition_pairs) ]] || return 0
      sleep 1
    done
  done
  die "partitions remain after 4 heal attempts" "${NODES[@]}"
}

# parallel WHAT N... -- CMD...: run "CMD... N" for every node N at once
# (rabbitmqctl start_app/stop_app take seconds each); die if any fails.
parallel() {
  local what=$1 nodes=() pids=() i
  shift
  while [[ $1 != -- ]]; do nodes+=("$1"); shift; done
  shift
  for i in "${nodes[@]}"; do
    "$@" "$i" &
    pids+=($!)
  done
  for i in "${!nodes[@]}"; do
    wait "${pids[$i]}" || die "$what failed on $(node_name "${nodes[$i]}")" "${nodes[$i]}"
  done
}

_stop_app() { ctlq "$1" stop_app; }
_start_app() { ctlq "$1" start_app; }

# ensure_members [N...]: make sure the given nodes (default: all; their rabbit
# app running) belong to the seed node's cluster (or, if the seed node is
# down, to the cluster of the first running node). Nodes that do not are
# stopped (stop_app, in parallel: ~6 s each, mostly the management agent's
# shutdown), joined one at a time (join_cluster resets a standalone node
# itself; reset/force_reset only if it refuses), then started in parallel.
ensure_members() {
  local n view need=() ref
  (($#)) || set -- "${NODES[@]}"
  # The reference is the seed node, or any running node if it is down.
  ref=$(any_running_node) || return 0
  view=$(cluster_view "$ref") || die "cannot read cluster_status of $(node_name "$ref")" "$ref"
  for n in "$@"; do
    [[ $n == "$ref" ]] && continue
    [[ $'\n'$view$'\n' == *$'\n'"member $(node_name "$n")"$'\n'* ]] && continue
    need+=("$n")
  done
  ((${#need[@]})) || return 0
  log "joining $(for n in "${need[@]}"; do printf '%s ' "$(node_name "$n")"; done)to $(node_name "$ref") (stop_app, join_cluster, start_app)"
  parallel stop_app "${need[@]}" -- _stop_app
  for n in "${need[@]}"; do
    ctlq "$n" join_cluster "$(node_name "$ref")" 2>/dev/null || {
      log "$(node_name "$n"): join refused; resetting it first"
      { ctlq "$n" reset || ctlq "$n" force_reset; } &&
        ctlq "$n" join_cluster "$(node_name "$ref")"
    } || die "join_cluster failed" "$n" "$ref"
  done
  parallel start_app "${need[@]}" -- _start_app
}

# Bring node N's VM and app up if needed (does not join or heal). A VM that
# had to be launched is appended to the LAUNCHED array; the caller must then
# wait_booted it (launching all first and waiting afterwards lets a restarted
# cluster's nodes find each other: each waits for its peers' Mnesia tables).
LAUNCHED=()
revive_node() {
  local n=$1 pid
  case $(vm_state "$n") in
    paused)
      pid=$(vm_pid "$n")
      log "$(node_name "$n") is paused (SIGSTOP); sending SIGCONT to pid $pid"
      kill -CONT "$pid"
      settle_after_resume "$n"
      ;;
    down)
      launch_vm "$n"
      LAUNCHED+=("$n")
      return 0
      ;;
  esac
  # The management listener only runs while the rabbit app runs: a cheap
  # check before the ~1 s rabbitmqctl round trip.
  mgmt_up "$n" && return 0
  if ! app_running "$n"; then
    log "$(node_name "$n"): VM up, rabbit app stopped; start_app"
    ctlq "$n" start_app || die "start_app failed on $(node_name "$n")" "$n"
  fi
}

# Erlang for `rabbitmqctl eval`: one "VHOST<TAB>QUEUE<TAB>COUNT" line per
# queue. COUNT is the exact number of messages, or "unknown" while the queue
# does not serve yet. Right after a restart, for a few seconds, a stream's
# recorded writer is dead (declaring it again fails with 404 "home node ... is
# down or inaccessible") and `list_queues`/the management API report 0
# messages for quorum queues and streams, because they read metrics tables
# that are not filled yet. rabbit_amqqueue:stat/1 asks the queue process or
# the Raft leader; for a stream it reads the leader's metrics, so a stream is
# "unknown" until its writer is alive and those metrics exist.
QUEUE_COUNTS_ERL=$(
  cat <<'ERL'
lists:foreach(fun(Q) ->
    {resource, VHost, queue, Name} = QN = amqqueue:get_name(Q),
    Pid = amqqueue:get_pid(Q),
    Count = case amqqueue:get_type(Q) of
        rabbit_stream_queue ->
            Leader = maps:get(leader_node, amqqueue:get_type_state(Q), node()),
            Alive = is_pid(Pid) andalso
                rpc:call(node(Pid), erlang, is_process_alive, [Pid], 5000) =:= true,
            case Alive andalso rpc:call(Leader, ets, lookup, [queue_coarse_metrics, QN], 5000) of
                [{_, _, _, M, _}] -> M;
                _ -> unknown
            end;
        _ ->
            case catch rabbit_amqqueue:stat(Q) of
                {ok, M, _} -> M;
                _ -> unknown
            end
    end,
    io:format("~ts\t~ts\t~p~n", [VHost, Name, Count])
end, rabbit_amqqueue:list()).
ERL
)

# queue_counts N: run QUEUE_COUNTS_ERL on node N (fails if the CLI does).
queue_counts() {
  local out
  out=$(ctl_eval "$1" "$QUEUE_COUNTS_ERL" 2>/dev/null) || return 1
  grep $'\t' <<<"$out" || true
}

# wait_queues_ready SECONDS: wait until every queue serves (see above); only
# warns on timeout (a queue may be broken for reasons of its own).
wait_queues_ready() {
  local deadline=$((SECONDS + $1)) counts waiting="(could not list queues)"
  while :; do
    if counts=$(queue_counts "$SEED_NODE"); then
      waiting=$(awk -F'\t' '$3 == "unknown" { printf "%s ", $2 }' <<<"$counts")
      [[ -z $waiting ]] && return 0
    fi
    if ((SECONDS >= deadline)); then
      warn "queues not serving yet after ${1}s: $waiting"
      return 0
    fi
    sleep 1
  done
}

# cluster_ok: true when every node's VM runs, its management and AMQP
# listeners answer, the seed node's /api/nodes lists all the nodes with
# running=true and no partitions, and the cluster name is right.
cluster_ok() {
  local n report
  for n in "${NODES[@]}"; do
    [[ $(vm_state "$n") == up ]] || return 1
    mgmt_up "$n" || return 1
    amqp_up "$n" || return 1
  done
  report=$(HTTP_TIMEOUT=5 api GET "$SEED_NODE" '/api/nodes?columns=name,running,partitions' 2>/dev/null) || return 1
  printf '%s' "$report" | "$PYTHON" -c '
import json, sys
want = set(sys.argv[1:])
nodes = {n["name"]: n for n in json.load(sys.stdin)}
ok = set(nodes) == want and all(n.get("running") and not n.get("partitions") for n in nodes.values())
sys.exit(0 if ok else 1)
' "${NODE_NAME[@]}" || return 1
  [[ $(HTTP_TIMEOUT=5 api GET "$SEED_NODE" /api/cluster-name 2>/dev/null) == *"\"$CLUSTER_NAME\""* ]] || return 1
}

# wait_cluster_ok SECONDS: poll cluster_ok.
wait_cluster_ok() {
  local deadline=$((SECONDS + $1))
  until cluster_ok; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}

# One line per node from the seed node's (or any running node's) /api/nodes.
print_nodes() {
  local via
  via=$(any_running_node) || { log "no node's management API answers"; return 0; }
  HTTP_TIMEOUT=5 api GET "$via" '/api/nodes?columns=name,running,partitions,uptime' 2>/dev/null | "$PYTHON" -c '
import json, sys
for n in json.load(sys.stdin):
    print("  %-20s running=%-5s partitions=%s uptime=%ss" % (n["name"], str(n.get("running")).lower(),
          n.get("partitions", []), (n.get("uptime") or 0) // 1000))
' || true
}

[[ -n ${WARREN_NO_ROOT_CHECK-} ]] || prepare_root
