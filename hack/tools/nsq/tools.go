//go:build tools

// Package tools pins the nsqd and nsqlookupd that the nsq source's tests run
// against; hack/nsqd.sh builds them from this module.
package tools

import (
	_ "github.com/nsqio/nsq/apps/nsqd"
	_ "github.com/nsqio/nsq/apps/nsqlookupd"
)
