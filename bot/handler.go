package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
)

// Surfaces.
const (
	SurfaceSlack    = "slack"
	SurfaceTelegram = "telegram"
	SurfaceConsole  = "console"
)

// Request is one typed command from any surface, already stripped of its
// surface syntax: Slack "/openclaw cooldown reset x", Telegram
// "/cooldown_reset@bot x" and the console line all arrive as
// Text "cooldown reset x".
type Request struct {
	Surface  string `json:"surface"`
	UserID   string `json:"user_id"`   // immutable id: Slack U…, Telegram numeric id, "console"
	UserName string `json:"user_name"` // display only; never used for access
	Where    string `json:"where"`     // channel / chat id ("" on the console)
	Private  bool   `json:"private"`   // a direct message
	Text     string `json:"text"`
}

// Press is a button press (Slack block_actions, Telegram callback_query).
type Press struct {
	Surface  string `json:"surface"`
	UserID   string `json:"user_id"`
	UserName string `json:"user_name"`
	Where    string `json:"where"`
	Private  bool   `json:"private"`
	Action   string `json:"action"` // Button.Action of the pressed button (an Action's Format)
}

// Reply is the answer to a Request or a Press.
type Reply struct {
	Message Message `json:"message"`
	// Ephemeral: only the requester should see it (Slack ephemeral /
	// response_url, Telegram: a private chat or a callback toast).
	Ephemeral bool `json:"ephemeral,omitempty"`
	// Toast is a short text for the pressed button's own answer
	// (Telegram answerCallbackQuery); may be empty.
	Toast string `json:"toast,omitempty"`
}

// Handler answers commands. Every surface calls it after acking the
// platform; it must be safe for concurrent use and never panic on input.
type Handler interface {
	Handle(ctx context.Context, req Request) Reply
	Press(ctx context.Context, p Press) Reply
}

// CommandInfo is one chat command as a surface's command menu lists it
// (the router's Commands). Surfaces that keep a menu (Telegram's
// setMyCommands) take it from their handler.
type CommandInfo struct {
	Name        string // the grammar's name: "cooldown reset"
	Telegram    string // Telegram's spelling: "cooldown_reset"
	Description string // one line for the menu
}

type requestIDKey struct{}

// WithRequestID tags ctx with the id of one chat request; the router and
// the surfaces log it ("req") so that one command's lines can be found.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is ctx's request id ("" = none).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// NewRequestID returns a short random id (12 hex digits).
func NewRequestID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type forwardedKey struct{}

// WithForwardedFrom marks ctx as a command another fleet instance took
// from chat and handed to this one, the owner of its target (package
// fleet). The router does not rate-limit it again nor forward it on.
func WithForwardedFrom(ctx context.Context, instance string) context.Context {
	return context.WithValue(ctx, forwardedKey{}, instance)
}

// ForwardedFrom is the instance that forwarded ctx's command ("" = typed
// here).
func ForwardedFrom(ctx context.Context) string {
	s, _ := ctx.Value(forwardedKey{}).(string)
	return s
}
