package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/sources"
)

// DefaultBaseURL is the GitHub REST API used when githubBaseURL is not set.
const DefaultBaseURL = "https://api.github.com/"

// apiTimeout bounds one call to the GitHub API.
const apiTimeout = 30 * time.Second

// Hooks are the GitHub hooks of an EventSource's github entries that set
// `apiToken` and `webhook.url`: on each repository and organization of such
// an entry, one hook delivering to the entry's public URL (HookURL).
type Hooks struct {
	eventSource string
	entries     []*hookEntry
	secrets     secret.Resolver
	client      *http.Client
}

var _ sources.Hooks = (*Hooks)(nil)

// hookEntry is one github entry that manages hooks.
type hookEntry struct {
	name    string
	spec    v1alpha1.GithubEventSource
	url     string   // where its hooks deliver
	apiBase string   // the REST API root, with a trailing "/"
	targets []string // "repos/<owner>/<name>" or "orgs/<org>"
	log     *zap.SugaredLogger
}

// managesHook reports whether a github entry asks for a hook: it names an
// API token and the public URL to deliver to.
func managesHook(g *v1alpha1.GithubEventSource) bool {
	return g.APIToken != nil && g.Webhook != nil && g.Webhook.URL != ""
}

// WantsHooks is the github type's sources.HookManager.Wants: whether an
// entry of es manages a hook, and whether one of those sets
// deleteHookOnFinish.
func WantsHooks(es *v1alpha1.EventSource) (register, remove bool) {
	for _, g := range es.Spec.Github {
		if managesHook(&g) {
			register = true
			remove = remove || g.DeleteHookOnFinish
		}
	}
	return register, remove
}

// HookURL is the URL a hook delivers to: webhook.url, the public base URL
// of the source, joined with webhook.endpoint, as Argo Events registers it.
func HookURL(w *v1alpha1.WebhookContext) string {
	return strings.TrimSuffix(w.URL, "/") + "/" + strings.TrimPrefix(w.Endpoint, "/")
}

// NewHooks returns the hooks of es's github entries, without I/O; entries
// that manage none are left out. es is expected to be defaulted and
// validated (pkg/manifest); problems are *apis.FieldError under
// spec.github[<name>].
func NewHooks(es *v1alpha1.EventSource, deps sources.Deps) (*Hooks, error) {
	if es == nil {
		return nil, errors.New("github: eventsource is nil")
	}
	log := deps.Logger
	if log == nil {
		log = zap.NewNop()
	}
	h := &Hooks{eventSource: es.Name, secrets: deps.Secrets, client: &http.Client{Timeout: apiTimeout}}
	var errs *apis.FieldError
	for _, name := range es.Spec.EventNames(Type) {
		g := es.Spec.Github[name]
		if !managesHook(&g) {
			continue
		}
		e, fe := newHookEntry(name, g, deps)
		if fe != nil {
			errs = errs.Also(fe.ViaFieldKey(Type, name).ViaField("spec"))
			continue
		}
		e.log = log.Sugar().With("eventSource", es.Name, "eventName", name)
		h.entries = append(h.entries, e)
	}
	if errs != nil {
		return nil, errs
	}
	return h, nil
}

func newHookEntry(name string, g v1alpha1.GithubEventSource, deps sources.Deps) (*hookEntry, *apis.FieldError) {
	var errs *apis.FieldError
	if deps.Secrets == nil {
		errs = errs.Also(apis.ErrGeneric("names a secret but no secret resolver was given", "apiToken"))
	}
	base, err := apiBaseURL(g.GithubBaseURL)
	if err != nil {
		errs = errs.Also(apis.ErrInvalidValue(g.GithubBaseURL, "githubBaseURL", err.Error()))
	}
	if errs != nil {
		return nil, errs
	}
	e := &hookEntry{name: name, spec: g, url: HookURL(g.Webhook), apiBase: base}
	for _, r := range g.Repositories {
		for _, n := range r.Names {
			e.targets = append(e.targets, "repos/"+url.PathEscape(r.Owner)+"/"+url.PathEscape(n))
		}
	}
	if g.DeprecatedOwner != "" && g.DeprecatedRepository != "" {
		e.targets = append(e.targets, "repos/"+url.PathEscape(g.DeprecatedOwner)+"/"+url.PathEscape(g.DeprecatedRepository))
	}
	for _, org := range g.Organizations {
		e.targets = append(e.targets, "orgs/"+url.PathEscape(org))
	}
	return e, nil
}

// apiBaseURL is the REST API root for githubBaseURL: the public API when
// empty; for GitHub Enterprise, the server's /api/v3/ unless the URL already
// names it (or an api.* host), as GitHub's Go client does.
func apiBaseURL(raw string) (string, error) {
	if raw == "" {
		return DefaultBaseURL, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("must be an absolute http or https URL")
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	if !strings.HasSuffix(u.Path, "/api/v3/") && !strings.HasPrefix(u.Host, "api.") {
		u.Path += "api/v3/"
	}
	return u.String(), nil
}

// Register makes every target of every entry have one hook delivering to
// the entry's URL, with the entry's events, content type, TLS check, secret
// and active flag: the hook already delivering there is updated, else one
// is created.
func (h *Hooks) Register(ctx context.Context) error {
	var errs []error
	for _, e := range h.entries {
		token, err := resolveSecret(ctx, h.secrets, h.eventSource, e.name, e.spec.APIToken, "apiToken")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		hookSecret, err := resolveSecret(ctx, h.secrets, h.eventSource, e.name, e.spec.WebhookSecret, "webhookSecret")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, target := range e.targets {
			id, created, err := h.ensure(ctx, e, token, hookSecret, target)
			if err != nil {
				errs = append(errs, fmt.Errorf("eventsource %s: spec.github[%s]: registering the hook of %s: %w", h.eventSource, e.name, target, err))
				continue
			}
			e.log.Infow("GitHub hook registered", "target", target, "hookID", id, "created", created, "url", e.url)
		}
	}
	return errors.Join(errs...)
}

// Unregister deletes, on every target of every entry that sets
// deleteHookOnFinish, the hooks delivering to the entry's URL.
func (h *Hooks) Unregister(ctx context.Context) error {
	var errs []error
	for _, e := range h.entries {
		if !e.spec.DeleteHookOnFinish {
			continue
		}
		token, err := resolveSecret(ctx, h.secrets, h.eventSource, e.name, e.spec.APIToken, "apiToken")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, target := range e.targets {
			if err := h.remove(ctx, e, token, target); err != nil {
				errs = append(errs, fmt.Errorf("eventsource %s: spec.github[%s]: deleting the hook of %s: %w", h.eventSource, e.name, target, err))
			}
		}
	}
	return errors.Join(errs...)
}

// hook is the part of a GitHub hook object the source reads and writes.
type hook struct {
	ID     int64         `json:"id,omitempty"`
	Name   string        `json:"name,omitempty"`
	Active bool          `json:"active"`
	Events []string      `json:"events,omitempty"`
	Config hookConfigMsg `json:"config"`
}

type hookConfigMsg struct {
	URL         string `json:"url"`
	ContentType string `json:"content_type,omitempty"`
	InsecureSSL string `json:"insecure_ssl,omitempty"`
	Secret      string `json:"secret,omitempty"`
}

// ensure updates target's hook delivering to e.url, or creates one.
func (h *Hooks) ensure(ctx context.Context, e *hookEntry, token, hookSecret, target string) (id int64, created bool, err error) {
	existing, err := h.find(ctx, e, token, target)
	if err != nil {
		return 0, false, err
	}
	insecure := "0"
	if e.spec.Insecure {
		insecure = "1"
	}
	want := hook{
		Active: e.spec.Active,
		Events: e.spec.Events,
		Config: hookConfigMsg{URL: e.url, ContentType: e.spec.ContentType, InsecureSSL: insecure, Secret: hookSecret},
	}
	if len(existing) > 0 {
		id := existing[0].ID
		if err := h.call(ctx, e, token, http.MethodPatch, target+"/hooks/"+strconv.FormatInt(id, 10), want, nil); err != nil {
			return 0, false, fmt.Errorf("updating hook %d: %w", id, err)
		}
		return id, false, nil
	}
	want.Name = "web"
	var got hook
	if err := h.call(ctx, e, token, http.MethodPost, target+"/hooks", want, &got); err != nil {
		return 0, false, fmt.Errorf("creating hook: %w", err)
	}
	return got.ID, true, nil
}

// remove deletes target's hooks delivering to e.url; one already gone is
// no failure.
func (h *Hooks) remove(ctx context.Context, e *hookEntry, token, target string) error {
	existing, err := h.find(ctx, e, token, target)
	if err != nil {
		return err
	}
	for _, k := range existing {
		err := h.call(ctx, e, token, http.MethodDelete, target+"/hooks/"+strconv.FormatInt(k.ID, 10), nil, nil)
		var st *statusError
		if errors.As(err, &st) && st.status == http.StatusNotFound {
			err = nil
		}
		if err != nil {
			return fmt.Errorf("deleting hook %d: %w", k.ID, err)
		}
		e.log.Infow("GitHub hook deleted", "target", target, "hookID", k.ID, "url", e.url)
	}
	return nil
}

// find lists target's hooks that deliver to e.url (the first 100 hooks).
func (h *Hooks) find(ctx context.Context, e *hookEntry, token, target string) ([]hook, error) {
	var all []hook
	if err := h.call(ctx, e, token, http.MethodGet, target+"/hooks?per_page=100", nil, &all); err != nil {
		return nil, fmt.Errorf("listing hooks: %w", err)
	}
	var out []hook
	for _, k := range all {
		if k.Config.URL == e.url {
			out = append(out, k)
		}
	}
	return out, nil
}

// statusError is a GitHub API answer other than 2xx.
type statusError struct {
	method, path string
	status       int
	message      []byte
}

func (s *statusError) Error() string {
	return fmt.Sprintf("%s %s: GitHub answered %d: %s", s.method, s.path, s.status, s.message)
}

// call sends one GitHub REST API request and decodes a 2xx answer into out.
func (h *Hooks) call(ctx context.Context, e *hookEntry, token, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.apiBase+path, body)
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("Authorization", "Bearer "+token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return &statusError{method: method, path: path, status: resp.StatusCode, message: bytes.TrimSpace(msg)}
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decoding answer: %w", method, path, err)
	}
	return nil
}
