package natsdtest

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/flintevents/flint/pkg/freeport"
)

// clusterReady bounds the wait for a cluster's JetStream meta leader.
const clusterReady = 30 * time.Second

// Cluster is a JetStream cluster of nats-servers in this process, joined by
// routes on loopback, as config/ runs three pods: streams of several
// replicas, one leader each, and a leader that can be killed and restarted.
type Cluster struct {
	t       testing.TB
	name    string
	clients []int // client port of each node
	routes  []int // route port of each node
	dirs    []string

	mu      sync.Mutex
	servers []*server.Server // nil for a node that is down
}

// RunCluster starts n nodes and waits until they elected a JetStream meta
// leader; they shut down when the test ends.
func RunCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	c := &Cluster{t: t, name: "flint-test", servers: make([]*server.Server, n)}
	for range n {
		c.clients = append(c.clients, freeport.Port(t))
		c.routes = append(c.routes, freeport.Port(t))
		c.dirs = append(c.dirs, t.TempDir())
	}
	t.Cleanup(func() {
		for i := range c.servers {
			c.Stop(i)
		}
	})
	for i := range n {
		c.Start(i)
	}
	c.WaitMetaLeader()
	return c
}

// Start starts node i (again, on its ports and store); it fails the test
// when the node does not accept connections in time.
func (c *Cluster) Start(i int) {
	c.t.Helper()
	var routes []*url.URL
	for j, p := range c.routes {
		if j != i {
			routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", p)})
		}
	}
	opts := &server.Options{
		ServerName: fmt.Sprintf("node-%d", i),
		Host:       "127.0.0.1",
		Port:       c.clients[i],
		JetStream:  true,
		StoreDir:   c.dirs[i],
		NoLog:      true,
		NoSigs:     true,
		Cluster:    server.ClusterOpts{Name: c.name, Host: "127.0.0.1", Port: c.routes[i]},
		Routes:     routes,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		c.t.Fatalf("node %d: %v", i, err)
	}
	go s.Start()
	if !s.ReadyForConnections(clusterReady) {
		s.Shutdown()
		c.t.Fatalf("node %d: not ready after %s", i, clusterReady)
	}
	c.mu.Lock()
	c.servers[i] = s
	c.mu.Unlock()
}

// Stop shuts node i down, as a killed pod; a node already down is left.
func (c *Cluster) Stop(i int) {
	c.mu.Lock()
	s := c.servers[i]
	c.servers[i] = nil
	c.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// URLs are the client URLs of every node, comma-separated, as a client
// that may reconnect to any of them is given.
func (c *Cluster) URLs() string {
	urls := make([]string, len(c.clients))
	for i, p := range c.clients {
		urls[i] = fmt.Sprintf("nats://127.0.0.1:%d", p)
	}
	return strings.Join(urls, ",")
}

// Node is the index of the running node named name (a stream's leader, as
// JetStream reports it), or -1.
func (c *Cluster) Node(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, s := range c.servers {
		if s != nil && s.Name() == name {
			return i
		}
	}
	return -1
}

// WaitMetaLeader waits until the running nodes agree on a JetStream meta
// leader.
func (c *Cluster) WaitMetaLeader() {
	c.t.Helper()
	deadline := time.Now().Add(clusterReady)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for _, s := range c.servers {
			if s != nil && s.JetStreamIsLeader() {
				c.mu.Unlock()
				return
			}
		}
		c.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("no JetStream meta leader after %s", clusterReady)
}

// Connect returns a connection to the cluster that reconnects to any node,
// closed when the test ends.
func (c *Cluster) Connect(opts ...nats.Option) *nats.Conn {
	c.t.Helper()
	all := append([]nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(100 * time.Millisecond)}, opts...)
	nc, err := nats.Connect(c.URLs(), all...)
	if err != nil {
		c.t.Fatalf("connecting to the cluster: %v", err)
	}
	c.t.Cleanup(nc.Close)
	return nc
}
