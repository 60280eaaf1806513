// Package manifest reads Argo Events and Knative YAML or JSON manifests from
// files, directories and stdin: it decodes every document strictly into
// flint's EventSource and Sensor types or Knative's Broker and Trigger,
// applies defaults, validates, and reports every problem with its origin
// (file, document) and field path. The kind-independent reading, decoding
// and problem format live in package document; Knative Brokers and Triggers
// alone, without the Argo types, in package knative.
package manifest
