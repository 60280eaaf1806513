package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flintevents/flint/pkg/compile"
)

// summaryKinds are the groups of objects the summary counts, in its order:
// a label (singular and plural) and the kinds it counts.
var summaryKinds = []struct {
	one, many string
	kinds     []string
}{
	{"source Service", "source Services", []string{"serving.knative.dev/v1/Service"}},
	{"EventSource ConfigMap", "EventSource ConfigMaps", []string{"v1/ConfigMap"}},
	{"Broker", "Brokers", []string{"eventing.knative.dev/v1/Broker"}},
	{"Trigger", "Triggers", []string{"eventing.knative.dev/v1/Trigger"}},
	{"RBAC object", "RBAC objects", []string{"v1/ServiceAccount", "rbac.authorization.k8s.io/v1/Role",
		"rbac.authorization.k8s.io/v1/RoleBinding", "rbac.authorization.k8s.io/v1/ClusterRole", "rbac.authorization.k8s.io/v1/ClusterRoleBinding"}},
	{"hook Job", "hook Jobs", []string{"batch/v1/Job"}},
	{"wake PingSource", "wake PingSources", []string{"sources.knative.dev/v1/PingSource"}},
}

// printSummary ends `flint compile`: what it wrote to dir, counted, what it
// removed of the earlier output, and the commands that deploy the output.
func printSummary(w io.Writer, dir string, copts compile.ClusterOptions, objs []compile.Object, projects []*compile.Project, did compile.Written) {
	counts := map[string]int{}
	copied, teardown := 0, 0
	for _, o := range objs {
		if _, ok := o.Value.(*unstructured.Unstructured); ok {
			copied++
			continue
		}
		if o.Dir == compile.TeardownDir {
			teardown++
			continue
		}
		counts[o.APIVersion()+"/"+o.Kind()]++
	}
	var parts []string
	for _, g := range summaryKinds {
		n := 0
		for _, k := range g.kinds {
			n += counts[k]
		}
		parts = append(parts, plural(n, g.one, g.many))
	}
	parts = append(parts, plural(copied, "copied object", "copied objects"), plural(len(projects), "function", "functions"))
	fmt.Fprintf(w, "wrote %s: %s\n", dir, strings.Join(parts, ", "))
	if len(did.Removed) > 0 {
		fmt.Fprintf(w, "removed %s of the earlier output that this one no longer has: %s\n",
			plural(len(did.Removed), "file", "files"), strings.Join(did.Removed, ", "))
	}
	if len(did.Others) > 0 {
		fmt.Fprintf(w, "left %s that flint compile did not write (--force): %s\n",
			plural(len(did.Others), "file", "files"), strings.Join(did.Others, ", "))
	}
	if teardown > 0 {
		fmt.Fprintf(w, "wrote %s: %s removing managed hooks, to apply when the EventSources are taken down\n",
			filepath.Join(dir, compile.TeardownDir), plural(teardown, "Job", "Jobs"))
	}
	for _, o := range objs {
		if ps, ok := o.Value.(*sourcesv1.PingSource); ok && ps.Spec.Sink.Ref != nil {
			fmt.Fprintf(w, "source %s/%s scales to zero, woken on %q: an event waits %s at its origin "+
				"(annotate its EventSource %s: \"1\" to keep it running)\n",
				ps.Namespace, ps.Spec.Sink.Ref.Name, ps.Spec.Schedule, compile.WakeLatency(ps.Spec.Schedule), "autoscaling.knative.dev/min-scale")
		}
	}
	fmt.Fprintln(w, "next:")
	if copts.ImageRepo != "" {
		fmt.Fprintf(w, "  kubectl apply -f %s\n", dir)
	} else {
		fmt.Fprintf(w, "  ko apply -f %s    # builds the source images into $KO_DOCKER_REPO\n", dir)
	}
	namespaces := map[string]bool{}
	for _, p := range projects {
		if !namespaces[p.Namespace] {
			namespaces[p.Namespace] = true
			fmt.Fprintf(w, "  %s    # once: the NATS user sensor functions connect as\n", copySensorSecret(p.Namespace))
		}
	}
	for _, p := range compile.ProjectDirs(projects) {
		fmt.Fprintf(w, "  kn func deploy --path %s\n", filepath.Join(dir, filepath.FromSlash(p)))
	}
}

// copySensorSecret is the command that copies the Secret of the NATS user of
// sensor functions from flint-system, where config/ installs it, to namespace ns.
func copySensorSecret(ns string) string {
	return "kubectl -n flint-system get secret " + compile.SensorNATSSecret +
		` -o go-template='{{range $k, $v := .data}}{{$k}}={{$v | base64decode}}{{"\n"}}{{end}}'` +
		" | kubectl -n " + ns + " create secret generic " + compile.SensorNATSSecret +
		" --from-env-file=/dev/stdin --dry-run=client -o yaml | kubectl apply -f -"
}

// plural renders n with the singular or plural noun.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
