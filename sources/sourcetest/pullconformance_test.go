package sourcetest

import (
	"slices"
	"testing"
)

func TestDeliveryProblems(t *testing.T) {
	t.Parallel()
	want := []string{"a", "b"}
	tests := []struct {
		name   string
		stored []delivered
		want   []string
	}{
		{
			name:   "each once",
			stored: []delivered{{"a", "1"}, {"b", "2"}},
		},
		{
			name:   "a duplicate under its id",
			stored: []delivered{{"a", "1"}, {"b", "2"}, {"a", "1"}},
		},
		{
			name:   "a body lost",
			stored: []delivered{{"a", "1"}},
			want:   []string{"body b lost"},
		},
		{
			name:   "a duplicate under another id",
			stored: []delivered{{"a", "1"}, {"b", "2"}, {"a", "3"}},
			want:   []string{"body a stored under 2 ids [1 3]: the broker keeps each copy"},
		},
		{
			name:   "two bodies under one id",
			stored: []delivered{{"a", "1"}, {"b", "1"}},
			want:   []string{"id 1 carries 2 bodies [a b]: the broker drops all but one"},
		},
		{
			name:   "no id",
			stored: []delivered{{"a", "1"}, {"b", ""}},
			want:   []string{"body b stored without an event id", "body b lost"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := deliveryProblems(want, tt.stored); !slices.Equal(got, tt.want) {
				t.Errorf("deliveryProblems = %q, want %q", got, tt.want)
			}
		})
	}
}
