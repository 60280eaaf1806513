package natsd

import "testing"

// RunTest starts a server on a random loopback port with its store in t.TempDir() and
// shuts it down when the test ends.
func RunTest(t testing.TB) *Server {
	t.Helper()
	s, err := Start(Options{StoreDir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatalf("starting nats server: %v", err)
	}
	t.Cleanup(s.Shutdown)
	return s
}
