package sensor

import "sync"

// seen is a bounded set of idempotency keys of triggers that succeeded; the
// oldest key is forgotten first.
type seen struct {
	mu    sync.Mutex
	max   int
	keys  map[string]struct{}
	order []string
}

func newSeen(max int) *seen {
	return &seen{max: max, keys: make(map[string]struct{}, max)}
}

func (s *seen) has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.keys[key]
	return ok
}

func (s *seen) add(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[key]; ok {
		return
	}
	if len(s.order) >= s.max {
		delete(s.keys, s.order[0])
		s.order = s.order[1:]
	}
	s.keys[key] = struct{}{}
	s.order = append(s.order, key)
}
