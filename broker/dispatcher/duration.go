package dispatcher

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

var errDuration = errors.New("not an ISO-8601 duration such as PT0.2S or P1DT2H")

// parseDuration reads a positive ISO-8601 duration: P[nY][nM][nW][nD][T[nH][nM][nS]],
// where the last number may have a fraction. Years count as 365 days and months as 30.
func parseDuration(s string) (time.Duration, error) {
	d, err := parseISO(s)
	if err != nil {
		return 0, fmt.Errorf("parsing duration %q: %w", s, err)
	}
	if d <= 0 {
		return 0, fmt.Errorf("duration %q must be positive", s)
	}
	return d, nil
}

func parseISO(s string) (time.Duration, error) {
	rest, ok := strings.CutPrefix(strings.ToUpper(s), "P")
	if !ok || rest == "" || strings.HasSuffix(rest, "T") {
		return 0, errDuration
	}
	const day = 24 * time.Hour
	type unit struct {
		letter byte
		size   time.Duration
	}
	dateUnits := []unit{{'Y', 365 * day}, {'M', 30 * day}, {'W', 7 * day}, {'D', day}}
	timeUnits := []unit{{'H', time.Hour}, {'M', time.Minute}, {'S', time.Second}}
	units, inTime := dateUnits, false
	var total float64
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return 0, errDuration
			}
			units, inTime, rest = timeUnits, true, rest[1:]
			continue
		}
		i := strings.IndexFunc(rest, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != ',' })
		if i <= 0 {
			return 0, errDuration
		}
		n, err := strconv.ParseFloat(strings.ReplaceAll(rest[:i], ",", "."), 64)
		if err != nil {
			return 0, errDuration
		}
		// Units come in order, each at most once.
		k := 0
		for k < len(units) && units[k].letter != rest[i] {
			k++
		}
		if k == len(units) {
			return 0, errDuration
		}
		total += n * float64(units[k].size)
		units, rest = units[k+1:], rest[i+1:]
	}
	if total > math.MaxInt64 {
		return 0, fmt.Errorf("%w: too long", errDuration)
	}
	return time.Duration(math.Round(total)), nil
}
