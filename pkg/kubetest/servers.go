package kubetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"k8s.io/client-go/rest"

	"github.com/flintevents/flint/pkg/freeport"
	"github.com/flintevents/flint/pkg/kube"
)

// servers are the two running processes and the directory holding their
// data, certificates and output.
type servers struct {
	dir      string
	logPath  string
	etcd     *exec.Cmd
	apiserve *exec.Cmd
	exited   map[*exec.Cmd]chan struct{} // closed when the process has exited
	release  chan struct{}               // closed after stop; ends the starter goroutine
}

// start runs etcd and kube-apiserver from the binaries in bin and waits until
// the API server reports ready. A start that races another process for a
// loopback port is tried again.
func start(bin string) (*Env, error) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var env *Env
		env, err = startOnce(bin)
		if err == nil {
			return env, nil
		}
		if !errors.Is(err, errExited) {
			return nil, err
		}
	}
	return nil, err
}

// errExited marks a process that ended during start, for instance because a
// port chosen for it was taken in the meantime.
var errExited = errors.New("exited during start")

func startOnce(bin string) (env *Env, err error) {
	dir, err := os.MkdirTemp("", "flint-kubetest-")
	if err != nil {
		return nil, fmt.Errorf("kubetest: creating work directory: %w", err)
	}
	s := &servers{
		dir:     dir,
		logPath: filepath.Join(dir, "output.log"),
		exited:  map[*exec.Cmd]chan struct{}{},
		release: make(chan struct{}),
	}
	defer func() {
		if err != nil {
			tail := s.tail()
			s.stop()
			err = fmt.Errorf("%w\n--- last lines of etcd and kube-apiserver output ---\n%s", err, tail)
		}
	}()

	token, err := randomHex(16)
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	host := "https://127.0.0.1:" + strconv.Itoa(ports[2])
	if err := s.writeFiles(token); err != nil {
		return nil, err
	}

	s.etcd = exec.Command(filepath.Join(bin, "etcd"),
		"--name=flint-test",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdURL,
		"--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=flint-test="+peerURL,
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	)
	s.apiserve = exec.Command(filepath.Join(bin, "kube-apiserver"),
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(ports[2]),
		"--cert-dir="+filepath.Join(dir, "certs"),
		"--token-auth-file="+filepath.Join(dir, "tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+filepath.Join(dir, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(dir, "sa.key"),
		"--service-cluster-ip-range=10.0.0.0/24",
		"--disable-admission-plugins=ServiceAccount",
		"--allow-privileged=true",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
	)
	if err := s.launch(); err != nil {
		return nil, err
	}

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cfg, err := s.waitReady(ctx, host, token)
	if err != nil {
		return nil, err
	}
	clients, err := kube.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubetest: building clients: %w", err)
	}
	return &Env{Config: cfg, Clients: clients, servers: s}, nil
}

// writeFiles writes the token file and the service-account signing key.
func (s *servers) writeFiles(token string) error {
	users := token + ",flint-test,flint-test,system:masters\n"
	if err := os.WriteFile(filepath.Join(s.dir, "tokens.csv"), []byte(users), 0o600); err != nil {
		return fmt.Errorf("kubetest: writing token file: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("kubetest: generating service-account key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return fmt.Errorf("kubetest: encoding service-account key: %w", err)
	}
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(filepath.Join(s.dir, "sa.key"), priv, 0o600); err != nil {
		return fmt.Errorf("kubetest: writing service-account key: %w", err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	if err := os.WriteFile(filepath.Join(s.dir, "sa.pub"), pubPEM, 0o600); err != nil {
		return fmt.Errorf("kubetest: writing service-account key: %w", err)
	}
	return nil
}

// launch starts both processes from one goroutine locked to its OS thread.
// The processes are told to die with that thread (see procAttr), and the
// thread lives until stop, so a test binary that crashes or times out never
// leaves them running.
func (s *servers) launch() error {
	out, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("kubetest: creating output file: %w", err)
	}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// The goroutine ends with the thread still locked, so the runtime
		// ends the thread too; by then both processes have been stopped.
		defer out.Close()
		for _, cmd := range []*exec.Cmd{s.etcd, s.apiserve} {
			cmd.Stdout, cmd.Stderr = out, out
			cmd.SysProcAttr = procAttr()
			if err := cmd.Start(); err != nil {
				started <- fmt.Errorf("kubetest: starting %s: %w", filepath.Base(cmd.Path), err)
				return
			}
			done := make(chan struct{})
			s.exited[cmd] = done
			go func() {
				_ = cmd.Wait() // the exit is reported through done and the output
				close(done)
			}()
		}
		started <- nil
		<-s.release
	}()
	return <-started
}

// waitReady polls /readyz until it answers ok, a process exits, or ctx ends,
// and returns the client configuration of the API server.
func (s *servers) waitReady(ctx context.Context, host, token string) (*rest.Config, error) {
	cfg := &rest.Config{Host: host, BearerToken: token, QPS: 200, Burst: 400}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("kubetest: kube-apiserver not ready within %s (last: %v): %w", startTimeout, last, ctx.Err())
		case <-s.exited[s.etcd]:
			return nil, fmt.Errorf("kubetest: etcd %w: %v", errExited, s.etcd.ProcessState)
		case <-s.exited[s.apiserve]:
			return nil, fmt.Errorf("kubetest: kube-apiserver %w: %v", errExited, s.apiserve.ProcessState)
		case <-tick.C:
		}
		// The serving certificate appears once the API server has made it.
		ca, err := os.ReadFile(filepath.Join(s.dir, "certs", "apiserver.crt"))
		if err != nil {
			last = err
			continue
		}
		cfg.CAData = ca
		if last = readyz(ctx, cfg); last == nil {
			return cfg, nil
		}
	}
}

// readyz asks the API server whether it is ready.
func readyz(ctx context.Context, cfg *rest.Config) error {
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return fmt.Errorf("building client: %w", err)
	}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz: %s", resp.Status)
	}
	return nil
}

// stop ends kube-apiserver, then etcd (politely, then by force), and removes
// the work directory. It is safe to call on a partly started pair.
func (s *servers) stop() {
	for _, cmd := range []*exec.Cmd{s.apiserve, s.etcd} {
		done, ok := s.exited[cmd]
		if !ok {
			continue
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	select {
	case <-s.release:
	default:
		close(s.release)
	}
	_ = os.RemoveAll(s.dir)
}

// tail returns the end of the processes' combined output.
func (s *servers) tail() string {
	const max = 4 << 10
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(no output: %v)", err)
	}
	if len(b) > max {
		b = b[len(b)-max:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	seen := map[int]bool{}
	for len(ports) < n {
		p, err := freeport.Find()
		if err != nil {
			return nil, fmt.Errorf("kubetest: finding a free port: %w", err)
		}
		if !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	return ports, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("kubetest: generating token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
