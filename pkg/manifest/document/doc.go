// Package document reads Kubernetes-style YAML or JSON manifests whatever
// their kinds: it reads files, directories and stdin, splits documents,
// decodes each strictly into the Go type registered for its apiVersion and
// kind (every unknown field and wrong type reported with its full path), and
// reports problems with their origin (file, document) and field path.
package document
