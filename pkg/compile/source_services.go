package compile

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/sources"
)

// DefaultSourcePort is the container port of a push source Service whose
// entries name several ports, or a port its container cannot have: Knative's
// default $PORT. The source image serves every entry on $PORT (see
// sources/host), so the entries keep their endpoints.
const DefaultSourcePort = 8080

// sourceMetricsPort is where a source image serves its /metrics unless told
// otherwise (sources/host DefaultMetricsPort): it cannot also serve entries.
const sourceMetricsPort = 7777

// reservedPort tells whether Knative refuses port as a container port: its
// queue-proxy takes 8012, 8013, 8022, 9090 and 9091 in every pod.
func reservedPort(port int) bool {
	switch port {
	case 8012, 8013, 8022, 9090, 9091:
		return true
	}
	return false
}

// sourceService is one Knative Service of a source: the entries of one type
// key of an EventSource that it runs, and the container port they are
// served on.
type sourceService struct {
	name string
	// entries names the entries the Service runs; nil when it runs every
	// entry of its type.
	entries []string
	// bindings are the routes of its push entries, none for a pull or watch source.
	bindings []v1alpha1.WebhookBinding
	// port is the container port of a push source; 0 for a pull or watch source.
	port int
}

// ports lists the distinct ports the entries of s name, sorted.
func (s sourceService) ports() []int {
	seen := map[int]bool{}
	var out []int
	for _, b := range s.bindings {
		n, _ := strconv.Atoi(b.Port)
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out
}

// moved tells whether an entry of s names another port than the container's.
func (s sourceService) moved() bool {
	for _, p := range s.ports() {
		if p != s.port {
			return true
		}
	}
	return false
}

// sourceServices splits the entries of src's type key into Knative Services.
// A Knative Service routes one container port, so the source image serves
// all entries of a Service on that port, at their endpoints; entries that
// share an endpoint on different ports (one port serves an endpoint once,
// whatever the method) go to Services of their own: "<eventSource>-<type>",
// then "-2", "-3"… The container port is the one port the entries name,
// unless they name several, or one Knative reserves or the image's metrics
// take: then DefaultSourcePort. A source whose type is of kind pull or
// watch is one Service.
func sourceServices(src Source, kind sources.Kind) ([]sourceService, error) {
	es := src.EventSource
	base := SourceServiceName(es.Name, src.Key)
	if kind != sources.Push {
		return []sourceService{{name: base}}, nil
	}
	var bindings []v1alpha1.WebhookBinding
	var errs *apis.FieldError
	for _, b := range es.Spec.WebhookBindings() {
		if b.TypeKey != src.Key {
			continue
		}
		if n, err := strconv.Atoi(b.Port); err != nil || n <= 0 || n > 65535 {
			errs = errs.Also(apis.ErrInvalidValue(b.Port, strings.TrimPrefix(b.Path, "spec.")+".port", "must be a port number"))
			continue
		}
		bindings = append(bindings, b)
	}
	if errs != nil {
		return nil, errs
	}
	if len(bindings) == 0 {
		return nil, apis.ErrGeneric("the entries of a push source type name no endpoint", src.Key)
	}
	var groups [][]v1alpha1.WebhookBinding
next:
	for _, b := range bindings {
		for i, g := range groups {
			if !servesEndpoint(g, b.Endpoint) {
				groups[i] = append(g, b)
				continue next
			}
		}
		groups = append(groups, []v1alpha1.WebhookBinding{b})
	}
	out := make([]sourceService, len(groups))
	for i, g := range groups {
		s := sourceService{name: base, bindings: g}
		if len(groups) > 1 {
			if i > 0 {
				s.name = SourceServiceName(es.Name, src.Key+"-"+strconv.Itoa(i+1))
			}
			for _, b := range g {
				s.entries = append(s.entries, b.EventName)
			}
		}
		s.port = DefaultSourcePort
		if ports := s.ports(); len(ports) == 1 && !reservedPort(ports[0]) && ports[0] != sourceMetricsPort {
			s.port = ports[0]
		}
		out[i] = s
	}
	return out, nil
}

// servesEndpoint tells whether one of bindings has endpoint.
func servesEndpoint(bindings []v1alpha1.WebhookBinding, endpoint string) bool {
	for _, b := range bindings {
		if b.Endpoint == endpoint {
			return true
		}
	}
	return false
}

// portNote is the comment above a push source's containerPort.
func (s sourceService) portNote() string {
	if !s.moved() {
		return "The port of the EventSource's entries; Knative routes the Service's URL to it."
	}
	ports := s.ports()
	names := make([]string, len(ports))
	for i, p := range ports {
		names[i] = strconv.Itoa(p)
	}
	where := "port " + names[0]
	var why []string
	if len(ports) > 1 {
		where = "ports " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
		why = append(why, "a Knative Service routes one port")
	}
	for _, p := range ports {
		switch {
		case reservedPort(p):
			why = append(why, fmt.Sprintf("Knative's queue-proxy takes port %d in every pod", p))
		case p == sourceMetricsPort:
			why = append(why, fmt.Sprintf("the image serves its metrics on port %d", p))
		}
	}
	return fmt.Sprintf("The EventSource puts these entries on %s, but %s:\n"+
		"the image serves them all on this port instead, at their endpoints ($PORT, which Knative sets to it).",
		where, strings.Join(why, ", and "))
}
