package dispatcher

import "testing"

func TestMarkEvery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		maxBytes int64
		want     int64
	}{
		{"no cap: the largest blocks", -1, keepEvery},
		{"1 GiB cap: the largest blocks", 1 << 30, keepEvery},
		{"4 MiB cap: medium blocks", 4 << 20, mediumBlock / keepPerBlock},
		{"128 kB cap: just above the smallest blocks", 128_000, mediumBlock / keepPerBlock},
		{"127 kB cap: the smallest blocks", 127_000, minBlock / keepPerBlock},
		{"50 kB cap: the smallest blocks", 50_000, minBlock / keepPerBlock},
		{"1 kB cap: the smallest blocks", 1000, minBlock / keepPerBlock},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := markEvery(tc.maxBytes); got != tc.want {
				t.Errorf("markEvery(%d) = %d, want %d", tc.maxBytes, got, tc.want)
			}
		})
	}
}
