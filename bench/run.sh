#!/usr/bin/env bash
# Whole-process comparison on one state dir: `openclaw-bot status --json` vs
# `openclaw models status --json` (the real Node CLI), plus the in-process
# Go benchmarks. Prints a Markdown table for bench/README.md.
#
#   bash bench/run.sh            # N=20 runs of each
#   N=50 bash bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

line=$(bash scripts/install-peer.sh "${OPENCLAW_PEER_DIR:-$HOME/.cache/openclaw-peer}")
eval "${line%%#*}"
go build -o "$work/openclaw-bot" ./cmd/openclaw-bot

# A real install, onboarded by the real CLI, with a fake key; no network.
export HOME="$work/home"
mkdir -p "$HOME"
key="sk-ant-api03-$(head -c 200 /dev/urandom | tr -dc 'A-Za-z0-9' | head -c 95)AA"
openclaw onboard --non-interactive --accept-risk --mode local --auth-choice apiKey \
  --anthropic-api-key "$key" --skip-daemon --skip-health --skip-channels --skip-skills \
  --skip-search --skip-ui --skip-hooks --gateway-bind loopback --gateway-port 18789 --json >/dev/null 2>&1
state="$HOME/.openclaw"

# time_runs CMD... -> prints sorted per-run milliseconds, one per line
time_runs() {
  for _ in $(seq "$N"); do
    s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N)
    echo $(( (e - s) / 1000 ))
  done | sort -n
}
pct() { awk -v p="$1" '{a[NR]=$1} END {i=int((NR-1)*p/100)+1; printf "%.1f", a[i]/1000}'; }

bot=$(time_runs "$work/openclaw-bot" status --json --state-dir "$state")
node=$(time_runs openclaw models status --json)
bot50=$(echo "$bot" | pct 50); bot99=$(echo "$bot" | pct 99)
node50=$(echo "$node" | pct 50); node99=$(echo "$node" | pct 99)
ratio=$(awk -v a="$node50" -v b="$bot50" 'BEGIN {printf "%.0f", a/b}')

echo "| measurement (N=$N, $(nproc) cores, $(date -u +%Y-%m-%d)) | p50 ms | p99 ms |"
echo "|---|---|---|"
echo "| \`openclaw-bot status --json\` (whole process) | $bot50 | $bot99 |"
echo "| \`openclaw models status --json\` (Node CLI $(openclaw --version | head -n1)) | $node50 | $node99 |"
echo "| **ratio (p50)** | **${ratio}×** | |"
echo
echo "In-process (go test -bench):"
echo '```'
go test -run='^$' -bench='ReadSnapshot|Diagnose|Parse$|CheckCached' -benchmem ./openclaw/ ./diagnostics/ ./openclaw/json5/ 2>/dev/null | grep -E '^Benchmark'
echo '```'
