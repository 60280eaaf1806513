//go:build tools

// Package kube records the commands hack/testenv.sh builds, so that go.mod
// and go.sum pin their whole dependency graph.
package kube

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
