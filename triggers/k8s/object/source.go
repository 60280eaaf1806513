// Package object holds what the k8s and argoWorkflow triggers share: reading
// the object a trigger acts on from its `source`, reaching objects of any
// kind through the dynamic client and the REST mapper, the labels Argo Events
// puts on what it creates, the `policy.k8s` wait for labels, and Base, which
// both triggers embed. objecttest holds what their tests share.
package object

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/registry"
)

const (
	// MaxSize bounds an object read from a URL, a ConfigMap key or a file.
	MaxSize = 4 << 20
	// URLTimeout bounds the download of an object from a `url` source.
	URLTimeout = 30 * time.Second
)

// NeedsCluster is the problem New reports when the host has no cluster.
func NeedsCluster() *apis.FieldError {
	return apis.ErrGeneric("needs a Kubernetes cluster: run flint dev with --kubeconfig", apis.CurrentField)
}

// CheckSource reports the `source` members flint cannot read yet (`git`,
// `s3`), with paths relative to the trigger spec (`source.git`). A missing
// or ambiguous source is the Sensor validation's to report.
func CheckSource(src *v1alpha1.ArtifactLocation) *apis.FieldError {
	if src == nil {
		return apis.ErrMissingField("source")
	}
	var errs *apis.FieldError
	if src.Git != nil {
		errs = errs.Also(registry.NotRunnable("git sources (runnable: resource, inline, configmap, url, file)", "source.git"))
	}
	if src.S3 != nil {
		errs = errs.Also(registry.NotRunnable("s3 sources (runnable: resource, inline, configmap, url, file)", "source.s3"))
	}
	return errs
}

// Loader reads a trigger's object from its source at every firing, so that a
// ConfigMap or URL edited later is picked up, and trigger-level parameters
// may change the source itself.
type Loader struct {
	core corev1client.CoreV1Interface
	// verified checks the server certificate of a `url` source; unverified
	// does not (Argo's `verifyCert: false`, the default).
	verified, unverified *http.Client
}

// NewLoader builds a loader reading ConfigMaps through core; transport, when
// not nil, is used for `url` sources that verify certificates.
func NewLoader(core corev1client.CoreV1Interface, transport http.RoundTripper) *Loader {
	if transport == nil {
		transport = newTransport(false)
	}
	return &Loader{
		core:       core,
		verified:   &http.Client{Transport: transport, Timeout: URLTimeout},
		unverified: &http.Client{Transport: newTransport(true), Timeout: URLTimeout},
	}
}

func newTransport(insecure bool) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{InsecureSkipVerify: insecure}, //nolint:gosec // the user asked for it in the YAML.
		MaxIdleConns:          8,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: URLTimeout,
	}
}

// Close releases the idle connections of the URL clients.
func (l *Loader) Close() {
	l.verified.CloseIdleConnections()
	l.unverified.CloseIdleConnections()
}

// Load reads the object of src as JSON; a ConfigMap is read in namespace.
// Errors name the source member, e.g. `source.configmap: …`.
func (l *Loader) Load(ctx context.Context, src *v1alpha1.ArtifactLocation, namespace string) ([]byte, error) {
	if err := CheckSource(src); err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	var (
		raw   []byte
		field string
		err   error
	)
	switch {
	case src.Resource != nil:
		raw, field = src.Resource.Value, "source.resource"
	case src.Inline != nil:
		raw, field = []byte(*src.Inline), "source.inline"
	case src.Configmap != nil:
		field = "source.configmap"
		raw, err = l.configMap(ctx, src.Configmap, namespace)
	case src.URL != nil:
		field = "source.url"
		raw, err = l.url(ctx, src.URL)
	case src.File != nil:
		field = "source.file"
		raw, err = readFile(src.File.Path)
	default:
		return nil, errors.New("source: expected one of resource, inline, configmap, url, file")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	doc, err := toJSONObject(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return doc, nil
}

func (l *Loader) configMap(ctx context.Context, ref *corev1.ConfigMapKeySelector, namespace string) ([]byte, error) {
	if l.core == nil {
		return nil, errors.New("no Kubernetes cluster to read the ConfigMap from")
	}
	cm, err := l.core.ConfigMaps(namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading ConfigMap %s/%s: %w", namespace, ref.Name, err)
	}
	if v, ok := cm.Data[ref.Key]; ok {
		return []byte(v), nil
	}
	if v, ok := cm.BinaryData[ref.Key]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("ConfigMap %s/%s has no key %q", namespace, ref.Name, ref.Key)
}

func (l *Loader) url(ctx context.Context, u *v1alpha1.URLArtifact) ([]byte, error) {
	client := l.unverified
	if u.VerifyCert {
		client = l.verified
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.Path, http.NoBody)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching the object: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("fetching the object: status %d", resp.StatusCode)
	}
	return readLimited(resp.Body)
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening the file: %w", err)
	}
	defer func() { _ = f.Close() }()
	return readLimited(f)
}

// readLimited reads r whole, refusing more than MaxSize bytes.
func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the object: %w", err)
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("the object is larger than %d bytes", MaxSize)
	}
	return b, nil
}

// toJSONObject converts a YAML or JSON document to JSON and checks that it
// is one object.
func toJSONObject(raw []byte) ([]byte, error) {
	doc, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("decoding the object: %w", err)
	}
	doc = bytes.TrimSpace(doc)
	if len(doc) == 0 || doc[0] != '{' {
		return nil, errors.New("expected a Kubernetes object")
	}
	return doc, nil
}

// Decode decodes an object's JSON and checks that it names its kind.
func Decode(doc []byte) (*unstructured.Unstructured, error) {
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, fmt.Errorf("decoding the object: %w", err)
	}
	obj := &unstructured.Unstructured{Object: m}
	if obj.GetAPIVersion() == "" || obj.GetKind() == "" {
		return nil, errors.New("the object needs apiVersion and kind")
	}
	return obj, nil
}
