// Package conformance checks flint's manifest decoding and validation against
// a corpus of Argo Events YAML: every valid document must load with no
// problem, and every invalid one must report exactly the problems it lists in
// its `# want:` comment lines.
package conformance
