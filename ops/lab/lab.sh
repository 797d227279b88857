#!/usr/bin/env bash
# A private Tor network on 127.0.0.1 with onion services in front of the simulated sites.
#
#   ops/lab/lab.sh start DIR [--base PORT] [--extra-onions N] [--bulk N]
#                                       start everything, wait until usable (--bulk: N filler
#                                       forum threads, for benchmarks)
#   ops/lab/lab.sh stop DIR                                     stop what DIR's start started
#   ops/lab/lab.sh status DIR
#
# Start: three directory authorities (also relays), three exit relays (exits to 127.0.0.0/8
# only; clients see them as exits for the clear-web port base+50), then — once the consensus lists all six — one onion-service host (forum mirrors 1 and
# 2, the leak site, N extra forum onions for benchmarks) and one plain tor client (a SOCKS port
# for Vigie's socks mode). Writes DIR/arti.toml (arti trusting only these authorities),
# DIR/lab.env (onion addresses, ports) and DIR/vigie.toml (a Vigie config for the lab).
# Every address is on 127.0.0.1. Requires Debian's tor package (tor, tor-gencert) and python3.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cmd="${1:-}"; dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n '2,15p' "$0" >&2; exit 2; }
shift 2
base=17000; extra=0; bulk=0
while [ $# -gt 0 ]; do
  case "$1" in
    --base) base="$2"; shift 2 ;;
    --extra-onions) extra="$2"; shift 2 ;;
    --bulk) bulk="$2"; shift 2 ;;
    *) echo "lab.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$dir"; dir="$(cd "$dir" && pwd)"

log() { echo "lab: $*" >&2; }

stop_all() {
  local f pid comm
  for f in "$dir"/*/tor.pid "$dir"/site/*.pid; do
    [ -f "$f" ] || continue
    pid="$(cat "$f" 2>/dev/null || true)"
    [ -n "$pid" ] || continue
    comm="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
    case "$comm" in
      tor|python3*) kill "$pid" 2>/dev/null || true ;;
    esac
    rm -f "$f"
  done
  # Give tor a moment to exit (ShutdownWaitLength 0).
  for _ in $(seq 1 20); do
    pgrep -f -- "$dir/" >/dev/null 2>&1 || break
    sleep 0.2
  done
}

case "$cmd" in
  stop) stop_all; log "stopped"; exit 0 ;;
  status)
    for f in "$dir"/*/tor.pid "$dir"/site/*.pid; do
      [ -f "$f" ] && { pid=$(cat "$f"); if kill -0 "$pid" 2>/dev/null; then echo "up   $f ($pid)"; else echo "down $f"; fi; }
    done
    exit 0 ;;
  start) ;;
  *) echo "lab.sh: unknown command $cmd (start, stop, status)" >&2; exit 2 ;;
esac

command -v tor >/dev/null && command -v tor-gencert >/dev/null || {
  echo "lab.sh: tor and tor-gencert are needed (apt-get install tor)" >&2; exit 3; }
stop_all
rm -rf "$dir"/{a0,a1,a2,r0,r1,r2,hs,client,site}
t0=$(date +%s)

# Ports: authorities OR base+0..2, Dir base+10..12; relays OR base+3..5; client SOCKS base+30;
# sites base+40 (forum mirror 1), base+41 (forum mirror 2), base+42 (leak site); base+50 is the
# "clear-web" port the exits serve (a test's server on 127.0.0.1, e.g. a Telegram preview).
forum1=$((base+40)); forum2=$((base+41)); leak=$((base+42)); socks=$((base+30)); clearweb=$((base+50))
echo "nameserver 127.0.0.1" > "$dir/resolv.conf"

mkdir -p "$dir/site"
python3 "$HERE/site.py" --root "$dir/site" --init --bulk "$bulk"
for spec in "forum1:$forum1:forum" "forum2:$forum2:forum" "leak:$leak:leak"; do
  IFS=: read -r name port kind <<<"$spec"
  nohup python3 "$HERE/site.py" --root "$dir/site" --port "$port" --kind "$kind" >"$dir/site/$name.log" 2>&1 &
  echo $! > "$dir/site/$name.pid"
done

# Authority identities (tor-gencert) and every relay's fingerprints.
declare -A rsa ed v3
for i in 0 1 2; do
  d="$dir/a$i"; mkdir -p "$d/keys"; chmod 700 "$d"
  echo "" | tor-gencert --create-identity-key -m 12 -a "127.0.0.1:$((base+10+i))" \
    -i "$d/keys/authority_identity_key" -s "$d/keys/authority_signing_key" \
    -c "$d/keys/authority_certificate" --passphrase-fd 0 >/dev/null 2>&1
  v3[a$i]="$(awk '/^fingerprint/{print $2}' "$d/keys/authority_certificate")"
done
for n in a0 a1 a2 r0 r1 r2; do
  d="$dir/$n"; mkdir -p "$d"; chmod 700 "$d"
  tor --quiet --ignore-missing-torrc -f /dev/null --list-fingerprint --DataDirectory "$d" --ORPort 1 \
    --DirAuthority "x 127.0.0.1:1 ffffffffffffffffffffffffffffffffffffffff" >/dev/null 2>&1 || true
  rsa[$n]="$(awk '{print $2}' "$d/fingerprint")"
  ed[$n]="$(awk '{print $2}' "$d/fingerprint-ed25519")"
  [ -n "${rsa[$n]}" ] && [ -n "${ed[$n]}" ] || { echo "lab.sh: no fingerprint for $n" >&2; exit 1; }
done

dirauths=""
for i in 0 1 2; do
  dirauths+="DirAuthority auth$i orport=$((base+i)) no-v2 v3ident=${v3[a$i]} 127.0.0.1:$((base+10+i)) ${rsa[a$i]}"$'\n'
done

common() { # name datadir
  cat <<EOT
TestingTorNetwork 1
DataDirectory $2
PidFile $2/tor.pid
RunAsDaemon 1
Log notice file $2/notice.log
Log info file $2/info.log
SafeLogging 0
ShutdownWaitLength 0
Nickname $1
Address 127.0.0.1
ContactInfo lab@vigie.test
AssumeReachable 1
PathsNeededToBuildCircuits 0.67
TestingDirAuthVoteExit *
TestingDirAuthVoteHSDir *
TestingDirAuthVoteGuard *
TestingMinExitFlagThreshold 0
V3AuthNIntervalsValid 2
ServerDNSDetectHijacking 0
ServerDNSResolvConfFile $dir/resolv.conf
$dirauths
EOT
}

for i in 0 1 2; do
  d="$dir/a$i"
  { common "auth$i" "$d"; cat <<EOT
SocksPort 0
ORPort 127.0.0.1:$((base+i))
DirPort 127.0.0.1:$((base+10+i))
AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
AuthDirMaxServersPerAddr 0
V3AuthVotingInterval 20
V3AuthVoteDelay 4
V3AuthDistDelay 4
TestingV3AuthInitialVotingInterval 20
TestingV3AuthInitialVoteDelay 4
TestingV3AuthInitialDistDelay 4
ExitPolicy reject *:*
EOT
  } > "$d/torrc"
done
for i in 0 1 2; do
  d="$dir/r$i"
  { common "exit$i" "$d"; cat <<EOT
SocksPort 0
ORPort 127.0.0.1:$((base+3+i))
ExitRelay 1
ExitPolicyRejectPrivate 0
ExitPolicy accept 127.0.0.0/8:*
# Microdescriptor policy summaries count public addresses only: without this line clients
# (arti) see no exit at all. Only the clear-web port, and only lab tests connect through it.
ExitPolicy accept *:$clearweb
ExitPolicy reject *:*
EOT
  } > "$d/torrc"
done
for n in a0 a1 a2 r0 r1 r2; do
  tor -f "$dir/$n/torrc" >"$dir/$n/start.log" 2>&1 || { echo "lab.sh: tor $n failed to start:" >&2; tail -5 "$dir/$n/start.log" >&2; stop_all; exit 1; }
done
log "phase 1: authorities and relays started ($(( $(date +%s) - t0 )) s)"

# Phase 2 waits for a consensus listing every relay (an onion host started on a smaller
# consensus can pin itself to too few relays and never publish).
deadline=$(( $(date +%s) + 180 ))
while :; do
  n=$(grep -c '^r ' "$dir/a0/cached-microdesc-consensus" 2>/dev/null || echo 0)
  [ "$n" -ge 6 ] && break
  [ "$(date +%s)" -lt "$deadline" ] || { echo "lab.sh: consensus never listed 6 relays (has $n)" >&2; stop_all; exit 1; }
  sleep 1
done
log "consensus lists all 6 relays ($(( $(date +%s) - t0 )) s)"

d="$dir/hs"; mkdir -p "$d"; chmod 700 "$d"
{ common "onionhost" "$d"; echo "SocksPort 0"
  for spec in "forum1:$forum1" "forum2:$forum2" "leak:$leak"; do
    IFS=: read -r name port <<<"$spec"
    echo "HiddenServiceDir $d/$name"; echo "HiddenServicePort 80 127.0.0.1:$port"
  done
  for k in $(seq 1 "$extra"); do
    echo "HiddenServiceDir $d/extra$k"; echo "HiddenServicePort 80 127.0.0.1:$forum1"
  done
} > "$d/torrc"
d="$dir/client"; mkdir -p "$d"; chmod 700 "$d"
{ common "client" "$d"; echo "SocksPort 127.0.0.1:$socks IsolateSOCKSAuth"; } > "$d/torrc"
for n in hs client; do
  tor -f "$dir/$n/torrc" >"$dir/$n/start.log" 2>&1 || { echo "lab.sh: tor $n failed to start" >&2; tail -5 "$dir/$n/start.log" >&2; stop_all; exit 1; }
done

services=(forum1 forum2 leak); for k in $(seq 1 "$extra"); do services+=("extra$k"); done
deadline=$(( $(date +%s) + 240 ))
for s in "${services[@]}"; do
  while [ ! -s "$dir/hs/$s/hostname" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "lab.sh: no hostname for $s" >&2; stop_all; exit 1; }
    sleep 0.5
  done
done
# Ready when every service has started an upload and as many uploads (two per service at
# least: current and next descriptor) were stored with status 200.
while :; do
  started=0
  for s in "${services[@]}"; do
    addr="$(cut -d. -f1 < "$dir/hs/$s/hostname")"
    grep -q "Service ${addr} .*initiated upload request" "$dir/hs/info.log" 2>/dev/null && started=$((started+1))
  done
  stored=$(grep -c 'Uploaded hidden service descriptor (status 200' "$dir/hs/info.log" 2>/dev/null || true)
  [ "$started" -eq "${#services[@]}" ] && [ "${stored:-0}" -ge $(( 2 * ${#services[@]} )) ] && break
  [ "$(date +%s)" -lt "$deadline" ] || { echo "lab.sh: descriptors: $started of ${#services[@]} services started uploading, $stored stored" >&2; stop_all; exit 1; }
  sleep 1
done
log "onion descriptors uploaded ($(( $(date +%s) - t0 )) s)"

# arti: trust only these authorities; fallbacks are the authorities' OR ports.
{
  echo "# Written by ops/lab/lab.sh: arti trusting only the lab's authorities."
  echo "[tor_network]"
  echo "fallback_caches = ["
  for i in 0 1 2; do
    echo "  { rsa_identity = \"${rsa[a$i]}\", ed_identity = \"${ed[a$i]}\", orports = [\"127.0.0.1:$((base+i))\"] },"
  done
  echo "]"
  echo "[tor_network.authorities]"
  printf 'v3idents = [%s]\n' "$(for i in 0 1 2; do printf '"%s",' "${v3[a$i]}"; done)"
  for k in uploads downloads votes; do
    printf '%s = [%s]\n' "$k" "$(for i in 0 1 2; do printf '["127.0.0.1:%s"],' $((base+10+i)); done)"
  done
  cat <<EOT
[override_net_params]
# C tor's testing network uses one shared-random run (24 x 20 s voting) as the time period.
hsdir_interval = 8
[path_rules]
ipv4_subnet_family_prefix = 33
ipv6_subnet_family_prefix = 129
[address_filter]
allow_local_addrs = true
[preemptive_circuits]
# The lab's exits only reach 127.0.0.0/8: no exit circuits to predict.
initial_predicted_ports = []
EOT
} > "$dir/arti.toml"

{
  echo "LAB_DIR=$dir"
  echo "LAB_FORUM1=$(cat "$dir/hs/forum1/hostname")"
  echo "LAB_FORUM2=$(cat "$dir/hs/forum2/hostname")"
  echo "LAB_LEAK=$(cat "$dir/hs/leak/hostname")"
  for k in $(seq 1 "$extra"); do echo "LAB_EXTRA$k=$(cat "$dir/hs/extra$k/hostname")"; done
  echo "LAB_SOCKS=127.0.0.1:$socks"
  echo "LAB_CLEARWEB_PORT=$clearweb"
  echo "LAB_FORUM1_PORT=$forum1"
  echo "VIGIE_LAB_FORUM_COOKIE=phpbb3_lab_sid=$(cat "$dir/site/cookie")"
} > "$dir/lab.env"

cat > "$dir/vigie.toml" <<EOT
# Written by ops/lab/lab.sh: Vigie against the lab's onion services.
[store]
path = "$dir/store"

[tor]
mode = "arti"
arti_config = "$dir/arti.toml"
connect_timeout_secs = 30
fetch_timeout_secs = 60
backoff_ms = 500

[[tor_source]]
id = "medleaks-forum"
kind = "forum"
engine = "phpbb"
mirrors = ["http://$(cat "$dir/hs/forum1/hostname")/", "http://$(cat "$dir/hs/forum2/hostname")/"]
start = "/index.php"
interval_secs = 30
max_pages = 40
cookie_env = "VIGIE_LAB_FORUM_COOKIE"

[[tor_source]]
id = "lockdown-leaks"
kind = "leak-site"
engine = "leak-site"
mirrors = ["http://$(cat "$dir/hs/leak/hostname")/"]
interval_secs = 60
max_pages = 5
EOT
log "ready in $(( $(date +%s) - t0 )) s: $dir/lab.env, $dir/arti.toml, $dir/vigie.toml"
