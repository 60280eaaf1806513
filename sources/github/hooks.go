package github

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// hookRef is a hook this source created or found: where and its id.
type hookRef struct {
	target string // "repos/<owner>/<name>" or "orgs/<org>"
	id     int64
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

// registerHooks makes sure every target of e has a hook delivering to the
// entry's webhook.url: one with the same URL is kept, else one is created.
// Failures are logged, not fatal: deliveries still arrive from hooks made by
// hand. It returns the hooks found or created.
func (s *Source) registerHooks(ctx context.Context, e *entry) []hookRef {
	if e.apiBase == "" {
		return nil
	}
	var refs []hookRef
	for _, target := range e.targets {
		id, created, err := s.ensureHook(ctx, e, target)
		if err != nil {
			e.Log.Errorw("registering the GitHub hook failed", "target", target, "error", err)
			continue
		}
		e.Log.Infow("GitHub hook ready", "target", target, "hookID", id, "created", created)
		refs = append(refs, hookRef{target: target, id: id})
	}
	return refs
}

func (s *Source) ensureHook(ctx context.Context, e *entry, target string) (id int64, created bool, err error) {
	var existing []hook
	if err := s.call(ctx, e, http.MethodGet, target+"/hooks?per_page=100", nil, &existing); err != nil {
		return 0, false, fmt.Errorf("listing hooks: %w", err)
	}
	for _, h := range existing {
		if h.Config.URL == e.spec.Webhook.URL {
			return h.ID, false, nil
		}
	}
	insecure := "0"
	if e.spec.Insecure {
		insecure = "1"
	}
	want := hook{
		Name:   "web",
		Active: e.spec.Active,
		Events: e.spec.Events,
		Config: hookConfigMsg{URL: e.spec.Webhook.URL, ContentType: e.spec.ContentType, InsecureSSL: insecure, Secret: string(e.secret)},
	}
	var got hook
	if err := s.call(ctx, e, http.MethodPost, target+"/hooks", want, &got); err != nil {
		return 0, false, fmt.Errorf("creating hook: %w", err)
	}
	return got.ID, true, nil
}

// deleteHooks deletes the hooks registerHooks returned.
func (s *Source) deleteHooks(ctx context.Context, e *entry, refs []hookRef) {
	for _, r := range refs {
		if err := s.call(ctx, e, http.MethodDelete, r.target+"/hooks/"+strconv.FormatInt(r.id, 10), nil, nil); err != nil {
			e.Log.Errorw("deleting the GitHub hook failed", "target", r.target, "hookID", r.id, "error", err)
			continue
		}
		e.Log.Infow("GitHub hook deleted", "target", r.target, "hookID", r.id)
	}
}

// call sends one GitHub REST API request and decodes a 2xx answer into out.
func (s *Source) call(ctx context.Context, e *entry, method, path string, in, out any) error {
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
	req.Header.Set("Authorization", "Bearer "+e.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: GitHub answered %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(msg))
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
