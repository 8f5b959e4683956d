# shellcheck shell=bash disable=SC2034 # the variables are for the scripts that source this
#
# layout.sh - reads tests/cluster/layout for the version WARREN_RABBITMQ names (default 3.10)
# into shell variables. Sourced by lib.sh and by the scripts that only need the addresses
# (tests/e2e/run, tests/demo, tests/bench/*); it starts nothing and changes nothing.
#
#   CLUSTER_NAME SOURCE STATE CTL_PORTS   the version's "cluster" line
#   NODES                                 node numbers, e.g. (1 2 3)
#   NODE_NAME[N] AMQP_PORT[N] MGMT_PORT[N] DIST_PORT[N]
#   SEED_NODE                             the first node
#   AMQPS_PORT[N] HTTPS_PORT[N] CLIENT_CERT[N]   node N's TLS listeners ("tls" lines; unset
#                                         for a node without)
#   node_endpoint_args                    prints "--node amqp://... --api http://..." per node
#                                         (no credentials), one word per line

WARREN_RABBITMQ=${WARREN_RABBITMQ:-3.10}
LAYOUT_FILE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/layout

# The version's "cluster" or "node" lines of the layout file.
_layout() { sed 's/#.*//' "$LAYOUT_FILE" | awk -v kind="$1" -v v="$WARREN_RABBITMQ" '$1 == kind && $2 == v'; }
read -r _ _ CLUSTER_NAME SOURCE STATE CTL_PORTS < <(_layout cluster) || true
if [[ -z ${CLUSTER_NAME-} ]]; then
  echo "WARREN_RABBITMQ=$WARREN_RABBITMQ: no such cluster in $LAYOUT_FILE (known: $(awk '$1 == "cluster" { printf "%s ", $2 }' "$LAYOUT_FILE"))" >&2
  exit 2
fi
NODES=()
NODE_NAME=() AMQP_PORT=() MGMT_PORT=() DIST_PORT=()
while read -r _ _ n name amqp mgmt dist; do
  NODES+=("$n")
  NODE_NAME[n]=$name AMQP_PORT[n]=$amqp MGMT_PORT[n]=$mgmt DIST_PORT[n]=$dist
done < <(_layout node)
SEED_NODE=${NODES[0]}
AMQPS_PORT=() HTTPS_PORT=() CLIENT_CERT=()
while read -r _ _ n amqps https client_cert; do
  AMQPS_PORT[n]=$amqps HTTPS_PORT[n]=$https CLIENT_CERT[n]=$client_cert
done < <(_layout tls)

node_endpoint_args() {
  local n
  for n in "${NODES[@]}"; do
    printf '%s\n' --node "amqp://127.0.0.1:${AMQP_PORT[n]}" --api "http://127.0.0.1:${MGMT_PORT[n]}"
  done
}
