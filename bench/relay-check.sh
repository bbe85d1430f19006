#!/bin/bash
# A relay check that shares nothing with chardevd's own benchmarks: the
# source, the sink and the clock are socat, sha256sum and bash. Random
# data goes from a file into one unix socket, through the relay, out of
# another and into sha256sum; each round's hash must be the file's.
# Relays: chardevd's link between two socket chardevs, and
# `socat -b 65536 UNIX-LISTEN:a UNIX-LISTEN:b`; rounds alternate which
# goes first. Reported: MiB/s from the source's start until the sink has
# counted the last byte (the relays' CPU time is in bench/link.ts).
# Run: npm run build && bench/relay-check.sh [MIB] [ROUNDS]
set -euo pipefail

MIB=${1:-512}
ROUNDS=${2:-3}
BYTES=$((MIB << 20))
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CHARDEVD="$ROOT/dist/bin/chardevd.cjs"
command -v socat >/dev/null || { echo "socat is not installed (apt-get install socat)" >&2; exit 1; }
[ -f "$CHARDEVD" ] || { echo "$CHARDEVD is missing: run npm run build" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c "$BYTES" /dev/urandom > "$work/data"
want=$(sha256sum < "$work/data" | cut -d' ' -f1)

echo "machine: $(nproc) processors (nproc), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load average $(cut -d' ' -f1-3 /proc/loadavg), Node.js $(node --version)"
echo "command: bench/relay-check.sh $MIB $ROUNDS"
echo "peers in the same run: $(socat -V | sed -n 's/^socat version/socat version/p' | head -1)"

now() { date +%s%N; }
wait_for() { for _ in $(seq 1 5000); do [ -S "$1" ] && return 0; sleep 0.002; done; echo "no socket $1" >&2; exit 1; }

# Prints the MiB/s of one round; exits if the hash differs.
round() {
  local dir relay start end sink
  dir=$(mktemp -d "$work/round.XXXX")
  # The sink's socat writes into a FIFO that this shell holds open both
  # ways (fd 3), so that neither end waits for the other to open it.
  mkfifo "$dir/sink"
  exec 3<>"$dir/sink"
  if [ "$1" = chardevd ]; then
    # b waits for its client before the daemon goes on (wait=on), so the
    # sink is connected before a.sock exists and nothing is dropped.
    node "$CHARDEVD" -chardev "socket,id=b,path=$dir/b.sock,server=on,wait=on" \
      -chardev "socket,id=a,path=$dir/a.sock,server=on,wait=off" -device link,id=l0,chardev=a,peer=b 2>/dev/null &
    relay=$!
    wait_for "$dir/b.sock"
    socat -u -b 65536 "UNIX-CONNECT:$dir/b.sock" - >&3 &
    sink=$!
    wait_for "$dir/a.sock"
    start=$(now)
    socat -u -b 65536 "FILE:$work/data" "UNIX-CONNECT:$dir/a.sock" &
  else
    # socat opens its first address (a client on a.sock), then its second.
    socat -b 65536 "UNIX-LISTEN:$dir/a.sock" "UNIX-LISTEN:$dir/b.sock" &
    relay=$!
    wait_for "$dir/a.sock"
    start=$(now)
    socat -u -b 65536 "FILE:$work/data" "UNIX-CONNECT:$dir/a.sock" &
    wait_for "$dir/b.sock"
    socat -u -b 65536 "UNIX-CONNECT:$dir/b.sock" - >&3 &
    sink=$!
  fi
  # The link keeps its sink connected after the source has gone, so the
  # sink's socat never ends by itself: the clock stops when head has
  # counted every byte, and the sink is ended then.
  head -c "$BYTES" <&3 | sha256sum | cut -d' ' -f1 > "$dir/got"
  end=$(now)
  kill "$sink" "$relay" 2>/dev/null || true
  wait 2>/dev/null || true
  exec 3<&-
  [ "$(cat "$dir/got")" = "$want" ] || { echo "$1: the sink's SHA-256 differs from the data's" >&2; exit 1; }
  awk -v b="$BYTES" -v ns=$((end - start)) 'BEGIN { printf "%.0f\n", b / 1048576 / (ns / 1e9) }'
}

ours=() theirs=()
for i in $(seq 1 "$ROUNDS"); do
  if [ $((i % 2)) -eq 1 ]; then ours+=("$(round chardevd)"); theirs+=("$(round socat)")
  else theirs+=("$(round socat)"); ours+=("$(round chardevd)"); fi
done

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
rate_ours=$(printf '%s\n' "${ours[@]}" | median) rate_theirs=$(printf '%s\n' "${theirs[@]}" | median)
echo "load average after the rounds $(cut -d' ' -f1-3 /proc/loadavg)"
echo "socat FILE -> unix socket -> relay -> unix socket -> socat | sha256sum, $MIB MiB per round, every hash checked; median of $ROUNDS rounds"
echo "| measure | chardevd (link) | socat -b 65536 | ratio |"
echo "|---|---:|---:|---:|"
awk -v a="$rate_ours" -v b="$rate_theirs" 'BEGIN { printf "| MiB/s | %.0f | %.0f | %.2fx |\n", a, b, a / b }'
echo "rounds, MiB/s: chardevd ${ours[*]}; socat ${theirs[*]}"
