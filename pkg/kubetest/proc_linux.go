package kubetest

import "syscall"

// procAttr makes the kernel kill a started process when the thread that
// started it ends, which covers a test binary that crashes or is killed.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
