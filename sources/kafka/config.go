package kafka

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"
)

// saramaConfig is what flint makes of an entry's `config`, the YAML of
// sarama settings Argo decodes into its client: the franz-go options of the
// settings franz-go has, and the keys it has not, which are ignored with a
// warning at start.
type saramaConfig struct {
	client  []kgo.Opt
	group   []kgo.Opt
	reset   *kgo.Offset
	ignored []string
}

// saramaSetting maps one sarama setting (its dotted path, lower case, as
// Argo's decoder matches it) to franz-go options.
type saramaSetting struct {
	group bool // a consumer group setting, read only in group mode
	apply func(v any, c *saramaConfig) error
}

var saramaSettings = map[string]saramaSetting{
	"clientid": {apply: func(v any, c *saramaConfig) error {
		c.client = append(c.client, kgo.ClientID(fmt.Sprint(v)))
		return nil
	}},
	"net.dialtimeout":           {apply: duration(func(d time.Duration) kgo.Opt { return kgo.DialTimeout(d) }, false)},
	"metadata.refreshfrequency": {apply: duration(func(d time.Duration) kgo.Opt { return kgo.MetadataMaxAge(d) }, false)},
	"consumer.fetch.min":        {apply: bytes(func(n int32) kgo.Opt { return kgo.FetchMinBytes(n) })},
	"consumer.fetch.default":    {apply: bytes(func(n int32) kgo.Opt { return kgo.FetchMaxPartitionBytes(n) })},
	"consumer.fetch.max":        {apply: bytes(func(n int32) kgo.Opt { return kgo.FetchMaxBytes(n) })},
	"consumer.maxwaittime":      {apply: duration(func(d time.Duration) kgo.Opt { return kgo.FetchMaxWait(d) }, false)},
	"consumer.isolationlevel": {apply: func(v any, c *saramaConfig) error {
		n, err := integer(v)
		if err != nil || (n != 0 && n != 1) {
			return fmt.Errorf("want 0 (read uncommitted) or 1 (read committed), got %v", v)
		}
		level := kgo.ReadUncommitted()
		if n == 1 {
			level = kgo.ReadCommitted()
		}
		c.client = append(c.client, kgo.FetchIsolationLevel(level))
		return nil
	}},
	"consumer.offsets.initial": {apply: func(v any, c *saramaConfig) error {
		n, err := integer(v)
		switch {
		case err == nil && n == -2:
			o := kgo.NewOffset().AtStart()
			c.reset = &o
		case err == nil && n == -1:
			o := kgo.NewOffset().AtEnd()
			c.reset = &o
		default:
			return fmt.Errorf("want -1 (newest) or -2 (oldest), got %v", v)
		}
		return nil
	}},
	"consumer.group.session.timeout":    {group: true, apply: duration(func(d time.Duration) kgo.Opt { return kgo.SessionTimeout(d) }, true)},
	"consumer.group.heartbeat.interval": {group: true, apply: duration(func(d time.Duration) kgo.Opt { return kgo.HeartbeatInterval(d) }, true)},
	"consumer.group.rebalance.timeout":  {group: true, apply: duration(func(d time.Duration) kgo.Opt { return kgo.RebalanceTimeout(d) }, true)},
	"consumer.group.instanceid": {group: true, apply: func(v any, c *saramaConfig) error {
		c.group = append(c.group, kgo.InstanceID(fmt.Sprint(v)))
		return nil
	}},
}

// parseSaramaConfig reads an entry's `config`. A setting franz-go has but
// whose value is wrong is a problem at `config`; one it has not is listed in
// ignored. Settings of a consumer group in partition mode are ignored too.
func parseSaramaConfig(text string, groupMode bool) (saramaConfig, *apis.FieldError) {
	var c saramaConfig
	if strings.TrimSpace(text) == "" {
		return c, nil
	}
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return c, apis.ErrInvalidValue(text, "config", "not YAML: "+err.Error())
	}
	flat := map[string]any{}
	flatten("", doc, flat)
	keys := make([]string, 0, len(flat))
	for k := range flat {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs *apis.FieldError
	for _, k := range keys {
		s, ok := saramaSettings[strings.ToLower(k)]
		if !ok || (s.group && !groupMode) {
			c.ignored = append(c.ignored, k)
			continue
		}
		if err := s.apply(flat[k], &c); err != nil {
			errs = errs.Also(apis.ErrInvalidValue(flat[k], "config", k+": "+err.Error()))
		}
	}
	return c, errs
}

// flatten writes the leaves of a YAML mapping under their dotted paths.
func flatten(prefix string, v any, out map[string]any) {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		if prefix != "" {
			out[prefix] = v
		}
		return
	}
	for k, sub := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		flatten(p, sub, out)
	}
}

// duration applies a sarama duration: a Go duration string ("10s") or a
// number of nanoseconds, as Argo's decoder reads both.
func duration(opt func(time.Duration) kgo.Opt, group bool) func(any, *saramaConfig) error {
	return func(v any, c *saramaConfig) error {
		var d time.Duration
		switch x := v.(type) {
		case string:
			var err error
			if d, err = time.ParseDuration(x); err != nil {
				return fmt.Errorf("not a duration: %w", err)
			}
		case float64:
			d = time.Duration(x)
		default:
			return fmt.Errorf("not a duration: %v", v)
		}
		if d <= 0 {
			return fmt.Errorf("must be positive, got %v", v)
		}
		if group {
			c.group = append(c.group, opt(d))
		} else {
			c.client = append(c.client, opt(d))
		}
		return nil
	}
}

// bytes applies a sarama byte count.
func bytes(opt func(int32) kgo.Opt) func(any, *saramaConfig) error {
	return func(v any, c *saramaConfig) error {
		n, err := integer(v)
		if err != nil || n <= 0 || n > 1<<31-1 {
			return fmt.Errorf("want a positive byte count, got %v", v)
		}
		c.client = append(c.client, opt(int32(n)))
		return nil
	}
}

func integer(v any) (int64, error) {
	switch x := v.(type) {
	case float64:
		if x != float64(int64(x)) {
			return 0, fmt.Errorf("not an integer: %v", x)
		}
		return int64(x), nil
	case string:
		return strconv.ParseInt(x, 10, 64)
	default:
		return 0, fmt.Errorf("not an integer: %v", v)
	}
}
