package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/flintevents/flint/broker/deadletter"
	"github.com/flintevents/flint/pkg/natsd"
)

// The layout of a flint dev data directory that dlq opens: the JetStream store lives
// in its jetstream folder; a running flint dev names itself in the pid file.
const (
	devStoreSubdir = "jetstream"
	devPidFile     = "flint-dev.pid"
)

// dlqFlags select where the dead letters are and which ones.
type dlqFlags struct {
	natsURL, dataDir string
	filter           deadletter.Filter
	output           string
}

func (f *dlqFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.natsURL, "nats", "", "NATS server URL of the broker (a cluster's JetStream, or flint dev --nats-port)")
	fl.StringVar(&f.dataDir, "data-dir", "", "data directory of a stopped flint dev (its --data-dir, or the kept temporary one it logged)")
	fl.StringVar(&f.filter.Namespace, "namespace", "", "only dead letters of this namespace")
	fl.StringVar(&f.filter.Broker, "broker", "", "only dead letters of this broker")
	fl.StringVar(&f.filter.Trigger, "trigger", "", "only dead letters of this trigger: NAME or NAMESPACE/NAME")
	fl.StringVar(&f.filter.ID, "id", "", "only the dead letter of this CloudEvent id")
}

// open connects to the JetStream that holds the dead letters; close releases it.
func (f *dlqFlags) open() (js jetstream.JetStream, closeFn func(), err error) {
	if ns, name, ok := strings.Cut(f.filter.Trigger, "/"); ok {
		if f.filter.Namespace != "" && f.filter.Namespace != ns {
			return nil, nil, fmt.Errorf("--trigger %s and --namespace %s disagree", f.filter.Trigger, f.filter.Namespace)
		}
		f.filter.Namespace, f.filter.Trigger = ns, name
	}
	var nc *nats.Conn
	closeFn = func() {}
	switch {
	case f.natsURL != "" && f.dataDir != "":
		return nil, nil, errors.New("--nats and --data-dir exclude each other")
	case f.natsURL != "":
		if nc, err = nats.Connect(f.natsURL, nats.Name("flint-dlq")); err != nil {
			return nil, nil, fmt.Errorf("connecting to %s: %w", f.natsURL, err)
		}
		closeFn = nc.Close
	case f.dataDir != "":
		srv, err := openDevStore(f.dataDir)
		if err != nil {
			return nil, nil, err
		}
		if nc, err = srv.Connect(nats.Name("flint-dlq")); err != nil {
			srv.Shutdown()
			return nil, nil, err
		}
		closeFn = func() { nc.Close(); srv.Shutdown() }
	default:
		return nil, nil, errors.New("say where the dead letters are: --nats URL or --data-dir DIR")
	}
	if js, err = jetstream.New(nc); err != nil {
		closeFn()
		return nil, nil, fmt.Errorf("opening jetstream: %w", err)
	}
	return js, closeFn, nil
}

// openDevStore starts an embedded server, without a port, on the store of a flint dev
// data directory that no running flint dev uses.
func openDevStore(dir string) (*natsd.Server, error) {
	store := filepath.Join(dir, devStoreSubdir)
	if _, err := os.Stat(store); err != nil {
		return nil, fmt.Errorf("--data-dir %s: no flint dev store in it (%w)", dir, err)
	}
	if pid, ok := devRunning(dir); ok {
		return nil, fmt.Errorf("--data-dir %s: flint dev (pid %d) is using it; stop it first, or run it with --nats-port and use --nats", dir, pid)
	}
	srv, err := natsd.Start(natsd.Options{StoreDir: store})
	if err != nil {
		return nil, fmt.Errorf("opening the store in %s: %w", dir, err)
	}
	return srv, nil
}

// devRunning reports the pid of a live flint dev named in dir's pid file.
func devRunning(dir string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(dir, devPidFile))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return 0, false
	}
	err = syscall.Kill(pid, 0)
	return pid, err == nil || errors.Is(err, syscall.EPERM)
}

func newDLQCommand(streams IO) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "List and replay the events the broker dead-lettered",
		Long: "A trigger that gives up on an event (its retries ran out, or the subscriber answered with a status " +
			"that is never retried) and has no dead-letter sink keeps it in its broker's dead-letter stream. " +
			"dlq lists those events and replays them into their broker, to the trigger that gave up only. " +
			"Point it at the broker's NATS server (--nats) or at the data directory of a stopped flint dev (--data-dir).",
	}
	cmd.AddCommand(newDLQListCommand(streams), newDLQReplayCommand(streams))
	return cmd
}

func newDLQListCommand(streams IO) *cobra.Command {
	var f dlqFlags
	cmd := &cobra.Command{
		Use:   "list (--nats URL | --data-dir DIR)",
		Short: "List dead-lettered events",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.output != "text" && f.output != "json" {
				return fmt.Errorf("--output %q: must be text or json", f.output)
			}
			js, closeFn, err := f.open()
			if err != nil {
				return err
			}
			defer closeFn()
			letters, err := deadletter.List(cmd.Context(), js, f.filter)
			if err != nil {
				return err
			}
			if f.output == "json" {
				return writeLettersJSON(streams.Out, letters)
			}
			return writeLetters(streams.Out, letters)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "text or json")
	return cmd
}

func newDLQReplayCommand(streams IO) *cobra.Command {
	var f dlqFlags
	cmd := &cobra.Command{
		Use:   "replay (--nats URL | --data-dir DIR)",
		Short: "Store dead-lettered events in their broker again, for the trigger that gave up",
		Long: "replay stores each selected dead letter in its broker stream again, addressed to the trigger that gave up " +
			"on it (the broker's other triggers skip it), and removes it from the dead-letter stream once stored. " +
			"With --data-dir the events are delivered when flint dev next runs on that directory. " +
			"A dead letter whose trigger no longer exists stays.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			js, closeFn, err := f.open()
			if err != nil {
				return err
			}
			defer closeFn()
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Minute)
			defer cancel()
			n, err := deadletter.Replay(ctx, js, f.filter, func(l deadletter.Letter, err error) {
				if err != nil {
					fmt.Fprintf(streams.Err, "kept %s (trigger %s): %v\n", letterID(l), l.TriggerKey(), err)
				}
			})
			fmt.Fprintf(streams.Out, "replayed %d dead letters\n", n)
			if err != nil {
				return exitError{code: 1}
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func letterID(l deadletter.Letter) string {
	if l.Event == nil {
		return fmt.Sprintf("#%d (undecodable)", l.Seq)
	}
	return l.Event.ID()
}

func writeLetters(w io.Writer, letters []deadletter.Letter) error {
	if len(letters) == 0 {
		_, err := fmt.Fprintln(w, "no dead letters")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BROKER\tTRIGGER\tID\tSOURCE\tTYPE\tCODE\tATTEMPTS\tDEAD-LETTERED\tERROR")
	for _, l := range letters {
		source, typ := "", ""
		if l.Event != nil {
			source, typ = l.Event.Source(), l.Event.Type()
		}
		code := "-"
		if l.Code != 0 {
			code = strconv.Itoa(l.Code)
		}
		fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", l.Namespace, l.Broker, l.TriggerKey(), letterID(l),
			source, typ, code, l.Attempts, l.Time.UTC().Format(time.RFC3339), l.Error)
	}
	return tw.Flush()
}

// letterJSON is the --output json form of a dead letter.
type letterJSON struct {
	Broker       string          `json:"broker"`
	Trigger      string          `json:"trigger"`
	Seq          uint64          `json:"seq"`
	DeadLettered time.Time       `json:"deadLettered"`
	Subscriber   string          `json:"subscriber"`
	Code         int             `json:"code,omitempty"`
	Error        string          `json:"error,omitempty"`
	Attempts     int             `json:"attempts"`
	Event        json.RawMessage `json:"event,omitempty"`
}

func writeLettersJSON(w io.Writer, letters []deadletter.Letter) error {
	out := make([]letterJSON, 0, len(letters))
	for _, l := range letters {
		j := letterJSON{Broker: l.Namespace + "/" + l.Broker, Trigger: l.TriggerKey(), Seq: l.Seq, DeadLettered: l.Time.UTC(),
			Subscriber: l.Subscriber, Code: l.Code, Error: l.Error, Attempts: l.Attempts}
		if l.Event != nil {
			b, err := l.Event.MarshalJSON()
			if err != nil {
				return fmt.Errorf("encoding event %s: %w", l.Event.ID(), err)
			}
			j.Event = b
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
