package nsq

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/flintevents/flint/sources/pull"
)

var _ pull.Backlogger = (*consumer)(nil)

// Backlog implements pull.Backlogger: the messages of the entry's channel
// that every nsqd holding the topic keeps (waiting, in flight or deferred
// by a requeue), asked from their HTTP /stats; the nsqd nodes are those
// nsqlookupd lists for the topic. A topic nsqlookupd does not know has none.
func (c *consumer) Backlog(ctx context.Context) (int64, error) {
	e := c.e
	base := strings.TrimSuffix(e.pingURL, "/ping")
	var lookup struct {
		Producers []struct {
			BroadcastAddress string `json:"broadcast_address"`
			HTTPPort         int    `json:"http_port"`
		} `json:"producers"`
	}
	found, err := getJSON(ctx, base+"/lookup?topic="+url.QueryEscape(e.topic), &lookup)
	if err != nil || !found {
		return 0, err
	}
	var total int64
	for _, p := range lookup.Producers {
		addr := net.JoinHostPort(p.BroadcastAddress, strconv.Itoa(p.HTTPPort))
		var stats struct {
			Topics []struct {
				Name     string `json:"topic_name"`
				Channels []struct {
					Name     string `json:"channel_name"`
					Depth    int64  `json:"depth"`
					InFlight int64  `json:"in_flight_count"`
					Deferred int64  `json:"deferred_count"`
				} `json:"channels"`
			} `json:"topics"`
		}
		q := url.Values{"format": {"json"}, "topic": {e.topic}, "channel": {e.channel}}
		if _, err := getJSON(ctx, "http://"+addr+"/stats?"+q.Encode(), &stats); err != nil {
			return 0, err
		}
		for _, t := range stats.Topics {
			for _, ch := range t.Channels {
				if t.Name == e.topic && ch.Name == e.channel {
					total += ch.Depth + ch.InFlight + ch.Deferred
				}
			}
		}
	}
	return total, nil
}

// getJSON decodes the JSON that url answers into v; found is false on 404.
func getJSON(ctx context.Context, u string, v any) (found bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return false, nil
	default:
		return false, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return false, fmt.Errorf("GET %s: %w", u, err)
	}
	return true, nil
}
