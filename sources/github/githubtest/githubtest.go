// Package githubtest serves, on loopback, a stand-in of GitHub's REST API
// for repository and organization hooks (list, create, update, delete), for
// the tests of the github source and of the hosts that run its hooks.
package githubtest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Server is the stand-in. Its hooks are kept by target: "repos/<owner>/<name>"
// or "orgs/<org>"; each is the JSON object GitHub answers with.
type Server struct {
	*httptest.Server
	prefix string

	mu     sync.Mutex
	hooks  map[string][]map[string]any
	nextID int
	calls  []string // "<method> <path>"
	auth   []string // the Authorization header of each call
}

// NewServer starts a stand-in serving the API under prefix (e.g. "/api/v3/",
// as GitHub Enterprise does) with the hooks of existing, and closes it when
// t ends. Created hooks are numbered from 101.
func NewServer(t testing.TB, prefix string, existing map[string][]map[string]any) *Server {
	t.Helper()
	s := &Server{prefix: prefix, hooks: map[string][]map[string]any{}, nextID: 100}
	for target, hs := range existing {
		for _, h := range hs {
			s.hooks[target] = append(s.hooks[target], maps.Clone(h))
		}
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serve(w http.ResponseWriter, req *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, req.Method+" "+req.URL.Path)
	s.auth = append(s.auth, req.Header.Get("Authorization"))
	path, ok := strings.CutPrefix(req.URL.Path, s.prefix)
	if !ok {
		http.NotFound(w, req)
		return
	}
	target, rest, ok := strings.Cut(path, "/hooks")
	if !ok {
		http.NotFound(w, req)
		return
	}
	id := strings.TrimPrefix(rest, "/")
	switch {
	case req.Method == http.MethodGet && rest == "":
		reply(w, http.StatusOK, append([]map[string]any{}, s.hooks[target]...))
	case req.Method == http.MethodPost && rest == "":
		var h map[string]any
		if err := json.NewDecoder(req.Body).Decode(&h); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.nextID++
		h["id"] = s.nextID
		s.hooks[target] = append(s.hooks[target], h)
		reply(w, http.StatusCreated, h)
	case req.Method == http.MethodPatch && id != "":
		var patch map[string]any
		if err := json.NewDecoder(req.Body).Decode(&patch); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, h := range s.hooks[target] {
			if fmt.Sprint(h["id"]) == id {
				maps.Copy(h, patch)
				reply(w, http.StatusOK, h)
				return
			}
		}
		http.NotFound(w, req)
	case req.Method == http.MethodDelete && id != "":
		kept := s.hooks[target][:0]
		for _, h := range s.hooks[target] {
			if fmt.Sprint(h["id"]) != id {
				kept = append(kept, h)
			}
		}
		if len(kept) == len(s.hooks[target]) {
			http.NotFound(w, req)
			return
		}
		s.hooks[target] = kept
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "unexpected call", http.StatusTeapot)
	}
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Calls lists the calls received so far, "<method> <path>", in order.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// Auth lists the Authorization header of each call received so far.
func (s *Server) Auth() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auth...)
}

// Hooks renders every hook kept, by target, as JSON with sorted keys.
func (s *Server) Hooks() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, _ := json.Marshal(s.hooks)
	return string(b)
}
