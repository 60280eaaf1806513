package cli

import "testing"

func TestDevProcs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ available, want int }{
		{1, 1},
		{2, 1},
		{3, 1},
		{4, 2},
		{16, 8},
	} {
		if got := devProcs(tc.available); got != tc.want {
			t.Errorf("devProcs(%d) = %d, want %d", tc.available, got, tc.want)
		}
	}
}
