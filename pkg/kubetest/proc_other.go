//go:build !linux

package kubetest

import "syscall"

// procAttr has nothing to add outside Linux: there the processes are stopped
// by Main only.
func procAttr() *syscall.SysProcAttr { return nil }
