// Package document reads Kubernetes-style YAML or JSON manifests whatever
// their kinds: it reads files, directories and stdin, splits documents,
// decodes each into the Go type registered for its apiVersion and kind
// (every wrong type a problem and every unknown field a warning, or a
// problem when strict, with its full path and a did-you-mean), skips or
// reports documents of other kinds, and reports problems with their origin
// (file, document) and field path.
package document
