package diagnostics

// Finding codes. These are a public contract (CONTRACT.md): never rename.
// Each has a row in codeTable below, which is all the rest of the bot
// knows about it.
const (
	CodeAuthMissing        = "auth.missing"
	CodeAgentMissing       = "auth.agent_missing"
	CodeKeyMalformed       = "key.malformed"
	CodeKeyRejected        = "key.rejected"
	CodeKeyForbidden       = "key.forbidden"
	CodeBillingBlocked     = "billing.blocked"
	CodeCredentialExpired  = "credential.expired"
	CodeCredentialExpiring = "credential.expiring"
	CodeOAuthRefreshFailed = "oauth.refresh_failed"
	CodeVersionKnownBug    = "version.known_bug"
	CodeFailoverNone       = "failover.none"
	CodeCooldownActive     = "cooldown.active"
	CodeDisabledActive     = "disabled.active"
	CodeCooldownAll        = "cooldown.all"
	CodeEnvShadowed        = "env.shadowed"
	CodeEnvOverride        = "env.override"
	CodeConfigSyntax       = "config.syntax"
	CodeConfigSchema       = "config.schema"
	// CodeConfigSchemaUnverified: keys the schema the bot knows (2026.9.x)
	// rejects, in a config written by another release, which may accept
	// them (its own onboarding writes some): a warning that says why.
	CodeConfigSchemaUnverified = "config.schema_unverified"
	CodeModelRef               = "model.ref"
	CodeStoreLegacyUnmigrated  = "store.legacy_unmigrated"
	CodeFilesPermissions       = "files.permissions"
	CodeVersionChanged         = "version.changed"
	// Codes beyond the contract's table.
	CodeStateUnreadable = "state.unreadable"
	CodeInstallMissing  = "install.missing"
	// CodeCooldownStale: a cooldown/disable that began before the
	// profile's current secret was stored, which the zero-token check
	// accepts (rule_cooldown_stale.go).
	CodeCooldownStale = "cooldown.stale"
	// CodeAuthExternal: Anthropic models run on Claude Code's own login,
	// outside the state dir (info; a warning when there is no login).
	CodeAuthExternal = "auth.external"
	// CodeOAuthRefreshPending: an OAuth login held by a refresh fence that
	// has not settled (info while a refresh may still run, critical after).
	CodeOAuthRefreshPending = "oauth.refresh_pending"
	// Codes only serve reports (package scheduler): a gateway whose
	// /healthz does not answer, and failures seen in OpenClaw's own log
	// that leave no state behind (an env key never gets a cooldown).
	CodeGatewayDown     = "gateway.down"
	CodeLogNoAPIKey     = "log.no_api_key"
	CodeLogOAuthRefresh = "log.oauth_refresh_failed"
	CodeLogAuthRejected = "log.auth_rejected"
	// CodeInstanceSilent: a fleet instance missed three heartbeats (package
	// fleet); its targets are unwatched. Also on a report another instance
	// answers for such a target.
	CodeInstanceSilent = "instance.silent"
)

// CodeSpec is everything the bot decides by a finding's code. The rows are
// codeTable; Spec looks one up.
type CodeSpec struct {
	Code string
	// Severities it is reported with: the usual one (the contract's) first.
	Severities []Severity
	// Kind: how the incident engine treats it.
	Kind CodeKind
	// GatewayMuted: muted, and kept from resolving, while the target's
	// gateway is down (a down gateway makes it unreliable, and it is not
	// what needs fixing first).
	GatewayMuted bool
	// Button is the button its alert gets (each alert also gets ButtonCheck
	// and ButtonSilence); scheduler.alertButton encodes it.
	Button AlertButton
	// Remedy is the bot's own confirmed action that acts on it.
	Remedy RemedyKind
	// CoveredBy (log codes): not reported while the state itself shows one
	// of these codes.
	CoveredBy []string
	// Rule emits it; nil for the codes only serve reports.
	Rule *Rule
}

// CodeKind says how the incident engine treats a code.
type CodeKind int

const (
	// KindFact: a condition read from the install (a cooldown is in the
	// state or it is not): fires at once, reminded, resolves.
	KindFact CodeKind = iota
	// KindEvent: something that happened: fires once whatever the
	// thresholds and MinSeverity, never reminded, closes silently.
	KindEvent
	// KindNetwork: reaching something over the network: one failed
	// request is no outage, so it fires after two evaluations.
	KindNetwork
)

// AlertButton is a button an alert carries.
type AlertButton int

const (
	ButtonNone     AlertButton = iota
	ButtonReset                // "Reset cooldown" of the finding's subject
	ButtonResetAll             // "Reset cooldown" of every profile
	ButtonCheck                // "Re-check" the target (every alert)
	ButtonSilence              // "Silence 1h" the target (every alert)
)

// RemedyKind is the confirmed action (chat command) that acts on a finding.
type RemedyKind int

const (
	RemedyNone RemedyKind = iota
	// RemedyCooldownReset: `cooldown reset` ends it.
	RemedyCooldownReset
	// RemedyDoctorFix: `doctor fix` acts on it (migrates the store, or
	// refreshes the login: a failed refresh destroys it), so its preview
	// lists the finding.
	RemedyDoctorFix
)

// Severities of the rows below.
var (
	crit, warn, info = []Severity{Critical}, []Severity{Warning}, []Severity{Info}
	infoOrCrit       = []Severity{Info, Critical}
	infoOrWarn       = []Severity{Info, Warning}
)

// codeTable is the one table of finding codes, in the order the rules run.
// Adding a code: a constant above, a row here, the rule's file, a row in
// the README's finding table (TestCodeTable checks all of it).
var codeTable = []CodeSpec{
	{Code: CodeInstallMissing, Severities: crit, GatewayMuted: true, Rule: &ruleInstallMissing},
	// A broken openclaw.json is often why the gateway is down: not muted.
	{Code: CodeConfigSyntax, Severities: crit, Rule: &ruleConfigSyntax},
	{Code: CodeConfigSchema, Severities: crit, Rule: &ruleConfigSchema},
	{Code: CodeConfigSchemaUnverified, Severities: warn, Rule: &ruleConfigSchema},
	{Code: CodeStateUnreadable, Severities: crit, GatewayMuted: true, Rule: &ruleStateUnreadable},
	{Code: CodeStoreLegacyUnmigrated, Severities: crit, GatewayMuted: true, Remedy: RemedyDoctorFix, Rule: &ruleLegacyUnmigrated},
	{Code: CodeAuthMissing, Severities: crit, GatewayMuted: true, Rule: &ruleAuthMissing},
	{Code: CodeAgentMissing, Severities: crit, GatewayMuted: true, Rule: &ruleAgentMissing},
	{Code: CodeKeyMalformed, Severities: crit, GatewayMuted: true, Rule: &ruleKeyMalformed},
	{Code: CodeKeyRejected, Severities: crit, GatewayMuted: true, Rule: &ruleKeyRejected},
	{Code: CodeKeyForbidden, Severities: crit, GatewayMuted: true, Rule: &ruleKeyForbidden},
	{Code: CodeBillingBlocked, Severities: crit, GatewayMuted: true, Rule: &ruleBilling},
	{Code: CodeDisabledActive, Severities: crit, GatewayMuted: true, Rule: &ruleDisabled},
	{Code: CodeCooldownActive, Severities: crit, GatewayMuted: true, Button: ButtonReset, Remedy: RemedyCooldownReset, Rule: &ruleCooldown},
	{Code: CodeCooldownAll, Severities: crit, GatewayMuted: true, Button: ButtonResetAll, Remedy: RemedyCooldownReset, Rule: &ruleCooldownAll},
	{Code: CodeCooldownStale, Severities: crit, GatewayMuted: true, Button: ButtonReset, Remedy: RemedyCooldownReset, Rule: &ruleCooldownStale},
	{Code: CodeOAuthRefreshFailed, Severities: crit, GatewayMuted: true, Remedy: RemedyDoctorFix, Rule: &ruleOAuthRefreshFailed},
	{Code: CodeOAuthRefreshPending, Severities: infoOrCrit, GatewayMuted: true, Remedy: RemedyDoctorFix, Rule: &ruleOAuthRefreshPending},
	{Code: CodeCredentialExpired, Severities: crit, GatewayMuted: true, Remedy: RemedyDoctorFix, Rule: &ruleCredentialExpiry},
	{Code: CodeCredentialExpiring, Severities: warn, GatewayMuted: true, Remedy: RemedyDoctorFix, Rule: &ruleCredentialExpiry},
	{Code: CodeAuthExternal, Severities: infoOrWarn, GatewayMuted: true, Rule: &ruleClaudeCLI},
	{Code: CodeEnvShadowed, Severities: warn, GatewayMuted: true, Rule: &ruleEnvShadowed},
	{Code: CodeEnvOverride, Severities: info, GatewayMuted: true, Rule: &ruleEnvOverride},
	{Code: CodeModelRef, Severities: warn, GatewayMuted: true, Rule: &ruleModelRef},
	{Code: CodeFailoverNone, Severities: info, GatewayMuted: true, Rule: &ruleFailoverNone},
	{Code: CodeVersionKnownBug, Severities: warn, GatewayMuted: true, Rule: &ruleVersionKnownBug},
	// An upgrade is news when the next alert arrives, and often why the
	// gateway is down: an event, never muted by it.
	{Code: CodeVersionChanged, Severities: info, Kind: KindEvent, Rule: &ruleVersionChanged},
	{Code: CodeFilesPermissions, Severities: warn, GatewayMuted: true, Rule: &ruleFilesPermissions},

	// Only serve reports these (package scheduler: its health check and
	// logPatterns). The gateway's own finding is not muted by itself.
	{Code: CodeGatewayDown, Severities: crit, Kind: KindNetwork},
	{Code: CodeLogNoAPIKey, Severities: crit, GatewayMuted: true, CoveredBy: []string{CodeAuthMissing}},
	{Code: CodeLogOAuthRefresh, Severities: crit, GatewayMuted: true,
		CoveredBy: []string{CodeOAuthRefreshFailed, CodeOAuthRefreshPending, CodeCredentialExpired}},
	{Code: CodeLogAuthRejected, Severities: crit, GatewayMuted: true},
	{Code: CodeInstanceSilent, Severities: crit, Kind: KindNetwork},
}

var (
	codeIndex = func() map[string]int {
		m := make(map[string]int, len(codeTable))
		for i, s := range codeTable {
			m[s.Code] = i
		}
		return m
	}()
	rules = func() []Rule {
		var out []Rule
		seen := map[*Rule]bool{}
		for _, s := range codeTable {
			if s.Rule != nil && !seen[s.Rule] {
				seen[s.Rule] = true
				out = append(out, *s.Rule)
			}
		}
		return out
	}()
)

// Spec returns the row of a code. A code not in the table (another
// version's, a test's) is a fact muted by a down gateway, with no button.
func Spec(code string) CodeSpec {
	if i, ok := codeIndex[code]; ok {
		return codeTable[i]
	}
	return CodeSpec{Code: code, GatewayMuted: true}
}

// Specs returns every row of the table, in order.
func Specs() []CodeSpec { return append([]CodeSpec(nil), codeTable...) }
