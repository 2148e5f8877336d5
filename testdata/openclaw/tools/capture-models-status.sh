#!/usr/bin/env bash
# Re-captures the models-status scenarios in ../models-status that the shared fixture set left out
# (disabled_billing, cooldown_ratelimit_model, token_expiring, invalidschema, env_both, oauth_fenced)
# plus the research cases (multi-agent inheritance, pasted whitespace, keyRef SecretRefs).
#
#   usage: capture-models-status.sh OUTDIR [WORKDIR]
#
# Needs the real CLI on PATH (bash scripts/install-peer.sh; export PATH=~/.cache/openclaw-peer/bin:$PATH),
# sqlite3, python3, and root for `unshare -n` (every CLI call runs in a private network namespace with
# only loopback, so nothing can reach the internet). Only random fake credentials are used.
# Machine paths ($WORKDIR/<case>) are replaced by the literal $WORK in the outputs.
set -euo pipefail
out=$(mkdir -p "$1" && cd "$1" && pwd)
work=${2:-$(mktemp -d /tmp/oc-capture.XXXXXX)}
mkdir -p "$work"
unset $(env | grep -E '^(ANTHROPIC_|CLAUDE|OPENAI_API_KEY|OPENCLAW_)' | cut -d= -f1) || true
export DO_NOT_TRACK=1 OPENCLAW_NO_AUTO_UPDATE=1

rnd() { head -c 600 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }
hex() { head -c 200 /dev/urandom | od -An -tx1 | tr -d ' \n' | head -c "$1"; }
now_ms() { date +%s%3N; }
# oc CASE [ENV=V...] -- ARGS : run openclaw with HOME=$work/CASE/home inside `unshare -n`
oc() {
  local c=$1; shift; local envs=()
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done; shift
  env -i PATH="$PATH" HOME="$work/$c/home" DO_NOT_TRACK=1 OPENCLAW_NO_AUTO_UPDATE=1 "${envs[@]}" \
    unshare -n sh -c 'ip link set lo up; cd "$HOME"; exec "$@"' sh openclaw "$@"
}
# cap CASE NAME [ENV=V...] -- ARGS : capture stdout/stderr/rc as NAME.{out,err,rc}
cap() {
  local c=$1 n=$2; shift 2; local rc=0
  oc "$c" "$@" >"$out/$n.out" 2>"$out/$n.err" || rc=$?
  echo "$rc" >"$out/$n.rc"
  sed -i "s#$work/$c#\$WORK#g" "$out/$n.out" "$out/$n.err"
}
setrow() { # setrow CASE KEY FILE
  python3 - "$work/$1/home/.openclaw/state/openclaw.sqlite" "$2" "$3" <<'PY'
import sqlite3, sys, json, time
db, key, src = sys.argv[1:4]
c = sqlite3.connect(db)
val = json.load(open(src))
c.execute("insert into config_machine_state(state_key,value_json,updated_at_ms) values(?,?,?) on conflict(state_key) do update set value_json=excluded.value_json, updated_at_ms=excluded.updated_at_ms", (key, json.dumps(val, separators=(',',':')), int(time.time()*1000)))
c.commit()
PY
}
row() { sqlite3 "$work/$1/home/.openclaw/state/openclaw.sqlite" "select value_json from config_machine_state where state_key='$2'" | python3 -m json.tool; }
editcfg() { # editcfg CASE PYTHON-EXPR-ON-d
  python3 - "$work/$1/home/.openclaw/openclaw.json" "$2" <<'PY'
import json, sys
p, code = sys.argv[1:3]; d = json.load(open(p)); exec(code); json.dump(d, open(p, "w"), indent=2)
PY
}
three() { # three CASE ENV... : text, --json, --check
  local c=$1; shift
  cap "$c" "${c}_text" "$@" -- models status
  cap "$c" "${c}_json" "$@" -- models status --json
  cap "$c" "${c}_check" "$@" -- models status --check
}

# --- onboarded template -------------------------------------------------------------------------
key="sk-ant-api03-$(rnd 95)AA"
mkdir -p "$work/tpl/home"
oc tpl -- onboard --non-interactive --accept-risk --mode local --auth-choice apiKey --anthropic-api-key "$key" \
  --skip-daemon --skip-health --skip-channels --skip-skills --skip-search --skip-ui --skip-hooks \
  --gateway-bind loopback --gateway-port 18789 --json >/dev/null 2>&1
fresh() { rm -rf "$work/$1"; cp -a "$work/tpl" "$work/$1"; sed -i "s#$work/tpl/#$work/$1/#g" "$work/$1/home/.openclaw/openclaw.json"; }

# --- disabled_billing: billing disable 10 min ---------------------------------------------------
fresh disabled_billing; t=$(now_ms)
cat >"$out/disabled_billing.state.json" <<J
{"version":1,"usageStats":{"anthropic:default":{"disabledUntil":$((t+600000)),"disabledReason":"billing","errorCount":1,"failureCounts":{"billing":1},"lastFailureAt":$t}}}
J
setrow disabled_billing authProfiles.state "$out/disabled_billing.state.json"
three disabled_billing

# --- cooldown_ratelimit_model: rate_limit cooldown scoped to claude-opus-5, 1 min ---------------
fresh cooldown_ratelimit_model; t=$(now_ms)
cat >"$out/cooldown_ratelimit_model.state.json" <<J
{"version":1,"usageStats":{"anthropic:default":{"cooldownUntil":$((t+60000)),"cooldownReason":"rate_limit","cooldownModel":"claude-opus-5","errorCount":1,"failureCounts":{"rate_limit":1},"lastFailureAt":$t}}}
J
setrow cooldown_ratelimit_model authProfiles.state "$out/cooldown_ratelimit_model.state.json"
three cooldown_ratelimit_model

# --- token_expiring: only a setup-token expiring in 2 h -----------------------------------------
fresh token_expiring
oc token_expiring -- models auth logout anthropic:default --yes >/dev/null 2>&1
printf '%s' "sk-ant-oat01-$(rnd 95)AA" | oc token_expiring -- models auth paste-token --provider anthropic --expires-in 2h >/dev/null 2>&1
row token_expiring authProfiles.store >"$out/token_expiring.store.json"
three token_expiring

# --- invalidschema: bogus profile mode + unknown top-level key ----------------------------------
fresh invalidschema
editcfg invalidschema 'd["auth"]["profiles"]["anthropic:default"]["mode"]="bogus"; d["bogusTopLevelKey"]=True'
sed "s#$work/invalidschema#\$WORK#g" "$work/invalidschema/home/.openclaw/openclaw.json" >"$out/invalidschema.openclaw.json"
three invalidschema

# --- env_both: no stored profile, ANTHROPIC_OAUTH_TOKEN + ANTHROPIC_API_KEY ---------------------
fresh env_both
oc env_both -- models auth logout anthropic:default --yes >/dev/null 2>&1
three env_both "ANTHROPIC_OAUTH_TOKEN=sk-ant-oat01-$(rnd 95)AA" "ANTHROPIC_API_KEY=sk-ant-api03-$(rnd 95)AA"

# --- oauth_fenced: OAuth profile after a failed refresh (JSON modes only!) -----------------------
fresh oauth_fenced; claim=$(hex 32)
cat >"$out/oauth_fenced.store.json" <<J
{"version":1,"profiles":{"anthropic:oauth":{"type":"oauth","provider":"anthropic","access":"openclaw-oauth-refresh-fence:v1:$claim:failed:access:$(hex 64)","refresh":"openclaw-oauth-refresh-fence:v1:$claim:failed:refresh:$(hex 64)","expires":1,"email":"fake@example.invalid"}}}
J
setrow oauth_fenced authProfiles.store "$out/oauth_fenced.store.json"
editcfg oauth_fenced 'd["auth"]["profiles"]={"anthropic:oauth":{"provider":"anthropic","mode":"oauth"}}'
cap oauth_fenced oauth_fenced_json -- models status --json
cap oauth_fenced oauth_fenced_json_check -- models status --json --check
row oauth_fenced authProfiles.store >"$out/oauth_fenced.store-after.json"

# --- research (c): pasted key with whitespace / line breaks -------------------------------------
fresh paste_whitespace; k2="sk-ant-api03-$(rnd 95)AA"
printf '%s  \n\n' "$k2" | oc paste_whitespace -- models auth paste-api-key --provider anthropic --profile-id anthropic:trailing >/dev/null 2>&1
printf '  %s\r\n' "$k2" | oc paste_whitespace -- models auth paste-api-key --provider anthropic --profile-id anthropic:crlf >/dev/null 2>&1
printf '%s\n%s\n' "${k2:0:50}" "${k2:50}" | oc paste_whitespace -- models auth paste-api-key --provider anthropic --profile-id anthropic:split >/dev/null 2>&1
row paste_whitespace authProfiles.store >"$out/paste_whitespace.store.json"
cap paste_whitespace paste_whitespace_json -- models status --json

# --- research (c): keyRef SecretRef (env) -------------------------------------------------------
rm -rf "$work/keyref"; mkdir -p "$work/keyref/home"; k3="sk-ant-api03-$(rnd 95)AA"
oc keyref "ANTHROPIC_API_KEY=$k3" -- onboard --non-interactive --accept-risk --mode local --auth-choice apiKey --secret-input-mode ref \
  --skip-daemon --skip-health --skip-channels --skip-skills --skip-search --skip-ui --skip-hooks \
  --gateway-bind loopback --gateway-port 18789 --json >/dev/null 2>&1
row keyref authProfiles.store >"$out/keyref_env.store.json"
cap keyref keyref_env_unset_json -- models status --json
cap keyref keyref_env_unset_check -- models status --check
cap keyref keyref_env_set_json "ANTHROPIC_API_KEY=$k3" -- models status --json
cap keyref keyref_env_set_check "ANTHROPIC_API_KEY=$k3" -- models status --check

# --- research (a): a second agent ---------------------------------------------------------------
fresh agents
oc agents -- agents add ops --non-interactive --workspace "$work/agents/home/.openclaw/workspace-ops" --json >/dev/null 2>&1
cap agents agent_ops_shared_json -- models status --json --agent ops
cp -a "$work/agents" "$work/agents_local"; sed -i "s#$work/agents/#$work/agents_local/#g" "$work/agents_local/home/.openclaw/openclaw.json"
printf '%s' "sk-ant-api03-$(rnd 95)AA" | oc agents_local -- models auth paste-api-key --provider anthropic --agent ops --profile-id anthropic:ops >/dev/null 2>&1
t=$(now_ms)
sqlite3 "$work/agents_local/home/.openclaw/agents/ops/agent/openclaw-agent.sqlite" \
  "insert into auth_profile_state values('primary','{\"version\":1,\"usageStats\":{\"anthropic:default\":{\"cooldownUntil\":$((t+600000)),\"cooldownReason\":\"auth\",\"errorCount\":1,\"failureCounts\":{\"auth\":1},\"lastFailureAt\":$t}}}',$t)"
cap agents_local agent_ops_localdb_json -- models status --json --agent ops
cap agents_local agent_main_localdb_json -- models status --json --agent main
cp -a "$work/agents" "$work/agents_legacy"; sed -i "s#$work/agents/#$work/agents_legacy/#g" "$work/agents_legacy/home/.openclaw/openclaw.json"
sqlite3 "$work/agents_legacy/home/.openclaw/state/openclaw.sqlite" "delete from config_machine_state where state_key='auth.sharedStore'"
cap agents_legacy agent_main_legacymain_nodb_json -- models status --json --agent main
cap agents_legacy agent_ops_legacymain_nodb_json -- models status --json --agent ops
echo "captured into $out (work dir $work)"
