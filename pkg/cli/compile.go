package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/flintevents/flint/pkg/compile"
	"github.com/flintevents/flint/pkg/dev"
	"github.com/flintevents/flint/pkg/manifest"
	"github.com/flintevents/flint/pkg/manifest/document"
)

// compiledKinds are the apiVersion/kind pairs flint reads; other objects are copied.
var compiledKinds = []string{
	"argoproj.io/v1alpha1/EventSource", "argoproj.io/v1alpha1/Sensor",
	"eventing.knative.dev/v1/Broker", "eventing.knative.dev/v1/Trigger",
}

func newCompileCommand(streams IO, o options) *cobra.Command {
	var (
		files         []string
		outDir        string
		namespace     string
		imageRepo     string
		stateReplicas int
		flintSource   string
		strict        bool
		force         bool
		domain        string
	)
	cmd := &cobra.Command{
		Use:   "compile -f PATH... -o DIR",
		Short: "Write the Knative objects and kn func projects that run Argo Events YAML on a cluster",
		Long: "compile reads EventSource, Sensor, Broker and Trigger documents, checks them as `flint validate` does " +
			"(a type this build cannot run is refused), and writes to DIR one commented YAML file per object for " +
			"`kubectl apply -f DIR`: the flint-jetstream Brokers, per EventSource and type a Knative Service with its " +
			"EventSource in a ConfigMap, RBAC for resource sources, a one-shot Job registering the hooks that entries " +
			"manage (github with apiToken and webhook.url; the Service's pods never touch them), and one Trigger per " +
			"sensor dependency; in DIR/teardown the Jobs that remove those hooks (deleteHookOnFinish), to apply before " +
			"deleting the rest; and per Sensor " +
			"a kn func project in DIR/functions/<sensor> for `kn func deploy`, with a ServiceAccount and RBAC when its k8s " +
			"or argoWorkflow triggers act on the cluster. Objects of other kinds are copied as they are. A push entry that " +
			"serves TLS itself is refused: TLS terminates at the Knative ingress. DIR/" + compile.ManifestFile + " lists the " +
			"files written: compiling into DIR again replaces that output and removes what it no longer has, and a DIR " +
			"holding other files is refused unless --force (which leaves them alone). It ends with what it wrote and the " +
			"commands that deploy it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return fmt.Errorf("-f: at least one file, directory or - is required")
			}
			if outDir == "" {
				return fmt.Errorf("-o: an output directory is required")
			}
			if errs := validation.IsDNS1123Subdomain(domain); len(errs) > 0 {
				return fmt.Errorf("--cluster-domain %q: %s", domain, strings.Join(errs, "; "))
			}
			if stateReplicas < 1 {
				return fmt.Errorf("--state-replicas %d: at least 1", stateReplicas)
			}
			fn, err := functionOptions(flintSource, o.goSum)
			if err != nil {
				return err
			}
			fn.opts.StateReplicas = stateReplicas
			return runCompile(cmd.Context(), streams, files, outDir, namespace, strict,
				compile.ClusterOptions{ImageRepo: imageRepo, ClusterDomain: domain}, fn, compile.WriteOptions{Force: force})
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&files, "filename", "f", nil, "file, directory or - (stdin) to read; repeatable")
	f.StringVarP(&outDir, "output", "o", "", "directory to write the objects and functions/ to")
	f.StringVarP(&namespace, "namespace", "n", compile.DefaultName, "namespace of the objects that name none")
	f.StringVar(&imageRepo, "image-repo", "", "image repository of the source images (<repo>/<type>) instead of ko:// paths")
	f.StringVar(&flintSource, "flint-source", "", "flint checkout the kn func projects build against (a go.mod replace), so they build offline")
	f.BoolVar(&strict, "strict", false, strictUsage)
	f.BoolVar(&force, "force", false, "write into a directory that holds files flint compile did not write, leaving them there")
	f.IntVar(&stateReplicas, "state-replicas", compile.DefaultStateReplicas, "replicas of each sensor function's state bucket: config-flint's stream-replicas (1 with deploy/single-node)")
	f.StringVar(&domain, "cluster-domain", compile.DefaultClusterDomain, "DNS domain of the cluster's Services, in the addresses of flint's broker ingress (K_SINK) and NATS")
	return cmd
}

func runCompile(ctx context.Context, streams IO, files []string, outDir, namespace string, strict bool,
	copts compile.ClusterOptions, fn functionSetup, wopts compile.WriteOptions) error {
	if fn.opts.NATSURL == "" && copts.ClusterDomain != "" {
		fn.opts.NATSURL = compile.NATSURLIn(copts.ClusterDomain)
	}
	stdin, err := readStdin(files, streams.In)
	if err != nil {
		return err
	}
	set, problems := loadWith(ctx, manifest.Loader{Stdin: bytes.NewReader(stdin), Strict: strict}, files)
	warnUnknown(streams.Err, set)
	copied, err := otherKinds(files, stdin)
	if err != nil {
		return err
	}
	for i := range set.Objects {
		if meta := set.Objects[i].Meta(); meta != nil && meta.GetNamespace() == "" {
			meta.SetNamespace(namespace)
		}
	}
	errs, notRunnable := dev.Validate(ctx, set, problems, dev.Options{})
	problems = append(problems, errs...)
	problems = append(problems, notRunnable...)
	if len(problems) > 0 {
		problems.Sort()
		for _, p := range problems {
			fmt.Fprintln(streams.Out, p.String())
		}
		return exitError{code: 1}
	}
	warnSensors(streams.Err, set)
	objs := dev.ObjectsOf(set, nil)
	graph, err := compile.Compile(compile.Input{
		EventSources: objs.EventSources, Sensors: objs.Sensors, Brokers: objs.Brokers, Triggers: objs.Triggers,
	}, compile.Options{SensorRef: compile.ServiceRef})
	if err != nil {
		return err
	}
	out, err := compile.Cluster(graph, copts)
	if err != nil {
		return fmt.Errorf("compiling: %w", err)
	}
	for _, c := range copied {
		fmt.Fprintf(streams.Err, "note: %s: %s %s/%s is not compiled by flint; copied unchanged\n",
			c.origin, c.obj.GetKind(), c.obj.GetAPIVersion(), c.obj.GetName())
		out = append(out, compile.Object{Value: c.obj, Comment: "Copied unchanged from " + c.origin + "."})
	}
	var projects []*compile.Project
	for _, s := range graph.Sensors {
		p, err := compile.Function(s, objs.EventSources, fn.opts)
		if err != nil {
			return err
		}
		projects = append(projects, p)
	}
	written, err := compile.Files(out, projects)
	if err != nil {
		return err
	}
	did, err := compile.Write(outDir, written, wopts)
	if err != nil {
		return err
	}
	printSummary(streams.Out, outDir, copts, out, projects, did)
	if len(projects) > 0 {
		for _, n := range fn.notes {
			fmt.Fprintln(streams.Err, n)
		}
	}
	return nil
}

// warnSensors prints the warnings of every Sensor's compiled form, each
// naming its field: triggers that may outlast the request timeout of the
// function's revision, a serviceAccountName the function does not run as.
func warnSensors(w io.Writer, set *manifest.Set) {
	for _, o := range set.Objects {
		if o.Sensor == nil {
			continue
		}
		fe := compile.SensorWarnings(o.Sensor)
		if fe == nil {
			continue
		}
		for _, e := range fe.WrappedErrors() {
			for _, path := range e.Paths {
				fmt.Fprintln(w, "warning: "+o.Origin.Problem(path, e.Message).String())
			}
		}
	}
}

// readStdin reads standard input once when a path is "-", so that both
// the manifest loader and the copy of other kinds see it.
func readStdin(files []string, in io.Reader) ([]byte, error) {
	if !slices.Contains(files, "-") || in == nil {
		return nil, nil
	}
	b, err := io.ReadAll(in)
	if err != nil {
		return nil, fmt.Errorf("reading stdin: %w", err)
	}
	return b, nil
}

// copiedObject is a document of a kind flint does not compile.
type copiedObject struct {
	origin string
	obj    *unstructured.Unstructured
}

// otherKinds finds the documents whose kind flint does not compile (the
// loader skips them; a near miss of a compiled kind stays its problem).
func otherKinds(files []string, stdin []byte) ([]copiedObject, error) {
	inputs, err := document.Reader{Stdin: bytes.NewReader(stdin)}.Read(files...)
	if err != nil {
		return nil, err
	}
	var copied []copiedObject
	for _, in := range inputs {
		if in.Problem != "" {
			continue
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(in.Data), 4096)
		var docs []*unstructured.Unstructured
		for {
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				docs = nil // malformed: the loader reports it
				break
			}
			if len(m) > 0 {
				docs = append(docs, &unstructured.Unstructured{Object: m})
			}
		}
		for i, u := range docs {
			if u.GetAPIVersion() == "" || u.GetKind() == "" ||
				slices.Contains(compiledKinds, u.GetAPIVersion()+"/"+u.GetKind()) {
				continue
			}
			origin := in.Name
			if len(docs) > 1 {
				origin = fmt.Sprintf("%s#%d", in.Name, i+1)
			}
			copied = append(copied, copiedObject{origin: origin, obj: u})
		}
	}
	return copied, nil
}
