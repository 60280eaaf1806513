package dispatcher

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "PT0.2S", want: 200 * time.Millisecond},
		{in: "PT0.05S", want: 50 * time.Millisecond},
		{in: "PT30S", want: 30 * time.Second},
		{in: "PT1M30S", want: 90 * time.Second},
		{in: "PT2H", want: 2 * time.Hour},
		{in: "P1D", want: 24 * time.Hour},
		{in: "P1DT1H", want: 25 * time.Hour},
		{in: "P1W", want: 7 * 24 * time.Hour},
		{in: "pt1,5s", want: 1500 * time.Millisecond},
		{in: "PT0S", wantErr: true},
		{in: "", wantErr: true},
		{in: "P", wantErr: true},
		{in: "PT", wantErr: true},
		{in: "1s", wantErr: true},
		{in: "PT1S1M", wantErr: true},
		{in: "P1H", wantErr: true},
		{in: "PTT1S", wantErr: true},
		{in: "PT-1S", wantErr: true},
		{in: "PTxS", wantErr: true},
	}
	for _, tc := range tests {
		got, err := parseDuration(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseDuration(%q) = %s, %v; want %s, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
