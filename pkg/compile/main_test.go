package compile_test

import (
	"testing"

	"github.com/flintevents/flint/pkg/kubetest"
)

func TestMain(m *testing.M) { kubetest.Main(m) }
