#!/bin/sh
# A small cluster of "nodes" on this machine for the integration tests (ClusterIT): each node is a
# network namespace with its own loopback, an address on a private switch (a bridge in a
# namespace of its own, joined by veth pairs) and, through a holder process, its own host name
# (UTS namespace) and its own /etc/hosts naming every node (mount namespace). Nothing is added to
# the machine's own network: the addresses exist only inside these namespaces. Root only.
#
#   namespace-cluster.sh start DIR NODES OWNER_PID   starts NODES nodes (node1..nodeN), records
#                                                    them in DIR, prints the node names; the
#                                                    cluster is taken down when OWNER_PID ends
#   namespace-cluster.sh stop DIR                    kills every process of every node and removes
#                                                    what DIR records
#   namespace-cluster.sh run DIR NODE COMMAND...     runs a command line on a node through a
#                                                    shell, as ssh does (what mpirun's remote-start
#                                                    agent calls: DIR/agent NODE COMMAND...)
#   namespace-cluster.sh exec DIR NODE ARGS...       runs a program on a node, its arguments as given
#   namespace-cluster.sh pids DIR NODE               lists the processes of a node but its holder
#   namespace-cluster.sh kill DIR NODE               kills every process of a node (a node lost)
#   namespace-cluster.sh cut DIR NODE                cuts a node's link at the switch (a node cut off)
#   namespace-cluster.sh reconnect DIR NODE          restores a node's link
#
# Each failure is one line on stderr and a non-zero status.
set -eu

fail() { echo "namespace-cluster: $*" >&2; exit 1; }
action=${1:-}
dir=${2:-}
[ -n "$action" ] && [ -n "$dir" ] || fail "usage: $0 start|stop|run|exec|pids|kill|cut|reconnect DIR ..."
here=$(cd "$(dirname "$0")" && pwd)

# Namespace names carry a prefix of this run, so that two clusters never share one.
prefix_of() { cat "$dir/prefix"; }
holder_of() { cat "$dir/$1.holder" 2>/dev/null || fail "no node $1 in $dir"; }

node_processes() { # ns holder: the processes in a node's network namespace but its holder
  ip netns pids "$1" 2>/dev/null | grep -vx "$2" || true
}

stop() {
  [ -f "$dir/prefix" ] || return 0
  prefix=$(prefix_of)
  if [ -f "$dir/watchdog.pid" ]; then
    watchdog=$(cat "$dir/watchdog.pid")
    [ "$watchdog" != "$$" ] && kill "$watchdog" 2>/dev/null || true
  fi
  for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep "^$prefix-" || true); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      kill -9 "$pid" 2>/dev/null || true
    done
    ip netns delete "$ns" 2>/dev/null || true
  done
  rm -f "$dir"/*.holder "$dir/prefix" "$dir/watchdog.pid"
}

case "$action" in
  start)
    nodes=${3:-3}
    owner=${4:-}
    [ -n "$owner" ] || fail "usage: $0 start DIR NODES OWNER_PID"
    [ "$(id -u)" = 0 ] || fail "needs root (it creates network namespaces)"
    for tool in ip unshare nsenter setsid; do
      command -v "$tool" >/dev/null 2>&1 || fail "$tool not found"
    done
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    stop
    prefix=jmp$$
    echo "$prefix" >"$dir/prefix"
    # Taken down by the owner's end, however it ends (a test JVM killed included).
    setsid sh -c "while kill -0 $owner 2>/dev/null; do sleep 1; done; exec '$here/namespace-cluster.sh' stop '$dir'" \
      >/dev/null 2>&1 </dev/null &
    echo $! >"$dir/watchdog.pid"
    {
      echo "127.0.0.1 localhost"
      i=1
      while [ $i -le "$nodes" ]; do echo "10.231.0.$i node$i"; i=$((i + 1)); done
    } >"$dir/hosts"
    switch=$prefix-switch
    ip netns add "$switch" || fail "cannot create network namespaces"
    ip netns exec "$switch" ip link set lo up
    ip netns exec "$switch" ip link add br0 type bridge
    ip netns exec "$switch" ip link set br0 up
    i=1
    while [ $i -le "$nodes" ]; do
      ns=$prefix-node$i
      ip netns add "$ns"
      ip link add "$prefix-a$i" type veth peer name "$prefix-b$i"
      ip link set "$prefix-a$i" netns "$ns"
      ip link set "$prefix-b$i" netns "$switch"
      ip netns exec "$switch" ip link set "$prefix-b$i" master br0
      ip netns exec "$switch" ip link set "$prefix-b$i" up
      ip netns exec "$ns" ip link set "$prefix-a$i" name eth0
      ip netns exec "$ns" ip addr add "10.231.0.$i/24" dev eth0
      ip netns exec "$ns" ip link set eth0 up
      ip netns exec "$ns" ip link set lo up
      # The holder keeps the node's host name and /etc/hosts; everything on the node enters its
      # namespaces. Not through 'ip netns exec', which would mount a /sys of its own and hide the
      # machine's cgroups (slurmd needs them).
      nsenter --net="/run/netns/$ns" unshare --uts --mount --propagation private \
        sh -c "mount --bind '$dir/hosts' /etc/hosts && hostname node$i && exec sleep infinity" \
        >/dev/null 2>&1 </dev/null &
      holder=$!
      tries=0
      until [ "$(cat "/proc/$holder/comm" 2>/dev/null)" = sleep ]; do
        tries=$((tries + 1))
        [ $tries -lt 50 ] && kill -0 "$holder" 2>/dev/null || fail "node$i did not start (its holder process ended)"
        sleep 0.1
      done
      [ "$(nsenter -t "$holder" -u hostname)" = "node$i" ] || fail "node$i has no host name of its own"
      echo "$holder" >"$dir/node$i.holder"
      i=$((i + 1))
    done
    cat >"$dir/agent" <<AGENT
#!/bin/sh
# mpirun's remote-start agent for this cluster: AGENT NODE COMMAND... runs COMMAND on NODE.
exec '$here/namespace-cluster.sh' run '$dir' "\$@"
AGENT
    chmod +x "$dir/agent"
    i=1
    while [ $i -le "$nodes" ]; do echo "node$i"; i=$((i + 1)); done
    ;;
  stop)
    stop
    ;;
  run)
    node=${3:-}
    [ -n "$node" ] || fail "usage: $0 run DIR NODE COMMAND..."
    shift 3
    # Like ssh: the command's words are joined and given to a shell on the node.
    exec nsenter -t "$(holder_of "$node")" -n -u -m -w"$(pwd)" -- /bin/sh -c "$*"
    ;;
  exec)
    node=${3:-}
    [ -n "$node" ] || fail "usage: $0 exec DIR NODE PROGRAM ARGS..."
    shift 3
    exec nsenter -t "$(holder_of "$node")" -n -u -m -w"$(pwd)" -- "$@"
    ;;
  pids)
    node=${3:-}
    node_processes "$(prefix_of)-$node" "$(holder_of "$node")"
    ;;
  kill)
    node=${3:-}
    for pid in $(node_processes "$(prefix_of)-$node" "$(holder_of "$node")"); do
      kill -9 "$pid" 2>/dev/null || true
    done
    ;;
  cut)
    node=${3:-}
    holder_of "$node" >/dev/null
    # At the switch, as a failed cable or switch port: the node's own interface stays up, so its
    # packets go out and nothing answers, as on a real network.
    ip netns exec "$(prefix_of)-switch" ip link set "$(prefix_of)-b${node#node}" down
    ;;
  reconnect)
    node=${3:-}
    holder_of "$node" >/dev/null
    ip netns exec "$(prefix_of)-switch" ip link set "$(prefix_of)-b${node#node}" up
    # Back only once it and every other node answer each other: a job started at once found its node's
    # address resolution still failed from the cut, and its MPI daemon gave up connecting.
    for other in $(ls "$dir" | sed -n 's/\.holder$//p'); do
      [ "$other" = "$node" ] && continue
      for pair in "$node ${other#node}" "$other ${node#node}"; do
        set -- $pair
        tries=0
        # A refused connection (nothing listens on port 9) is an answer from the other node.
        until nsenter -t "$(holder_of "$1")" -n -- timeout 1 bash -c "exec 3<>/dev/tcp/10.231.0.$2/9" 2>&1 \
            | grep -q refused; do
          tries=$((tries + 1))
          [ $tries -lt 20 ] || fail "$1 cannot reach node$2 after $node was reconnected"
          sleep 0.5
        done
      done
    done
    ;;
  *)
    fail "unknown action $action"
    ;;
esac
