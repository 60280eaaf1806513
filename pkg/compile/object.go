package compile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// Object is one Kubernetes object of the compiled output, with the comments
// written beside it.
type Object struct {
	// Value is the object, its apiVersion and kind set: a typed Kubernetes or
	// Knative object, or *unstructured.Unstructured for objects copied as they came.
	Value KubeObject
	// Comment is written above the object, each line prefixed with "# ".
	Comment string
	// Notes are comments written above the first line of the object's YAML
	// that sets the note's key.
	Notes []Note
	// Dir, when set, is the directory of the output the object is written
	// to instead of the top (e.g. TeardownDir), so that `kubectl apply -f
	// DIR` leaves it out.
	Dir string
}

// KubeObject is what every Kubernetes object is: metadata and a type.
type KubeObject interface {
	metav1.Object
	runtime.Object
}

// Note is a comment on one field of an object's YAML.
type Note struct {
	// Key is the YAML key the comment goes above, e.g.
	// "autoscaling.knative.dev/min-scale", or a key and its value, e.g.
	// "name: K_SINK" (a list item's "- " is not part of it).
	Key string
	// Text is the comment, one or more lines.
	Text string
}

// Kind returns the object's kind.
func (o Object) Kind() string { return o.Value.GetObjectKind().GroupVersionKind().Kind }

// APIVersion returns the object's apiVersion.
func (o Object) APIVersion() string {
	return o.Value.GetObjectKind().GroupVersionKind().GroupVersion().String()
}

// YAML renders the object as a YAML document: its comment, then the object
// with keys sorted, without the empty status and creation timestamp that
// typed objects carry, with each note above its key.
func (o Object) YAML() ([]byte, error) {
	m, err := o.fields()
	if err != nil {
		return nil, err
	}
	body, err := yaml.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("rendering %s %s: %w", o.Kind(), o.Value.GetName(), err)
	}
	var out bytes.Buffer
	writeComment(&out, "", o.Comment)
	notes := append([]Note(nil), o.Notes...)
	for _, line := range strings.SplitAfter(string(body), "\n") {
		trimmed := strings.TrimLeft(line, " ")
		indent := line[:len(line)-len(trimmed)]
		trimmed = strings.TrimPrefix(trimmed, "- ")
		for i := 0; i < len(notes); i++ {
			key := notes[i].Key
			if !strings.Contains(key, ": ") {
				key += ":"
			}
			if strings.HasPrefix(trimmed, key) {
				writeComment(&out, indent, notes[i].Text)
				notes = append(notes[:i], notes[i+1:]...)
				i--
			}
		}
		out.WriteString(line)
	}
	return out.Bytes(), nil
}

// fields is the object as a generic map, cleaned of the fields a typed
// object renders although they were never set.
func (o Object) fields() (map[string]any, error) {
	raw, err := json.Marshal(o.Value)
	if err != nil {
		return nil, fmt.Errorf("encoding %s %s: %w", o.Kind(), o.Value.GetName(), err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("encoding %s %s: %w", o.Kind(), o.Value.GetName(), err)
	}
	if _, copied := o.Value.(*unstructured.Unstructured); !copied {
		clean(m)
	}
	return m, nil
}

// clean drops null values, empty resources and an empty status, at the
// top and in embedded objects.
func clean(m map[string]any) {
	if md, ok := m["metadata"].(map[string]any); ok {
		if v, ok := md["creationTimestamp"]; ok && v == nil {
			delete(md, "creationTimestamp")
		}
		if len(md) == 0 {
			delete(m, "metadata")
		}
	}
	if st, ok := m["status"].(map[string]any); ok && len(st) == 0 {
		delete(m, "status")
	}
	for k, v := range m {
		switch child := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			clean(child)
			if k == "resources" && len(child) == 0 {
				delete(m, k)
			}
		case []any:
			for _, item := range child {
				if im, ok := item.(map[string]any); ok {
					clean(im)
				}
			}
		}
	}
}

func writeComment(out *bytes.Buffer, indent, text string) {
	if text == "" {
		return
	}
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		out.WriteString(indent)
		if line == "" {
			out.WriteString("#\n")
			continue
		}
		out.WriteString("# " + line + "\n")
	}
}
