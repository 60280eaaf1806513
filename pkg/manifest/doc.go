// Package manifest reads Argo Events and Knative YAML or JSON manifests from
// files, directories and stdin: it decodes every document into flint's
// EventSource and Sensor types or Knative's Broker and Trigger (unknown
// fields are warnings with a did-you-mean, or problems when strict; other
// kinds are skipped), applies defaults, validates, and reports every problem
// with its origin (file, document) and field path. The kind-independent
// reading, decoding and problem format live in package document; the Argo
// kinds alone, without Knative Eventing (one EventSource for a source image),
// in package argo; Knative Brokers and Triggers alone, without the Argo
// types, in package knative.
package manifest
