package broker

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"sigs.k8s.io/yaml"
)

// eventingAPIVersion is the only API version of Broker and Trigger the loader reads.
const eventingAPIVersion = "eventing.knative.dev/v1"

// Manifests are the Knative Brokers and Triggers read from YAML.
type Manifests struct {
	Brokers  []*eventingv1.Broker
	Triggers []*eventingv1.Trigger
}

// LoadFiles reads Brokers and Triggers from multi-document YAML files.
func LoadFiles(paths ...string) (Manifests, error) {
	var all Manifests
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			return all, fmt.Errorf("loading manifests: %w", err)
		}
		m, err := Decode(f)
		f.Close()
		if err != nil {
			return all, fmt.Errorf("loading %s: %w", path, err)
		}
		all.Brokers = append(all.Brokers, m.Brokers...)
		all.Triggers = append(all.Triggers, m.Triggers...)
	}
	return all, nil
}

// Decode reads Brokers and Triggers (eventing.knative.dev/v1) from multi-document YAML.
// Decoding is strict: unknown fields and other kinds are errors naming the document.
func Decode(r io.Reader) (Manifests, error) {
	var m Manifests
	reader := k8syaml.NewYAMLReader(bufio.NewReader(r))
	for doc := 1; ; doc++ {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return m, nil
		}
		if err != nil {
			return m, fmt.Errorf("reading document %d: %w", doc, err)
		}
		if len(bytes.TrimSpace(raw)) == 0 || isCommentOnly(raw) {
			continue
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		js, err := yaml.YAMLToJSON(raw)
		if err != nil {
			return m, fmt.Errorf("parsing document %d: %w", doc, err)
		}
		if err := json.Unmarshal(js, &head); err != nil {
			return m, fmt.Errorf("parsing document %d: %w", doc, err)
		}
		if head.APIVersion != eventingAPIVersion {
			return m, fmt.Errorf("document %d: apiVersion %q, want %s", doc, head.APIVersion, eventingAPIVersion)
		}
		switch head.Kind {
		case "Broker":
			b := &eventingv1.Broker{}
			if err := yaml.UnmarshalStrict(raw, b); err != nil {
				return m, fmt.Errorf("decoding Broker in document %d: %w", doc, err)
			}
			m.Brokers = append(m.Brokers, b)
		case "Trigger":
			t := &eventingv1.Trigger{}
			if err := yaml.UnmarshalStrict(raw, t); err != nil {
				return m, fmt.Errorf("decoding Trigger in document %d: %w", doc, err)
			}
			m.Triggers = append(m.Triggers, t)
		default:
			return m, fmt.Errorf("document %d: kind %q, want Broker or Trigger", doc, head.Kind)
		}
	}
}

func isCommentOnly(doc []byte) bool {
	for line := range bytes.Lines(doc) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' {
			return false
		}
	}
	return true
}
