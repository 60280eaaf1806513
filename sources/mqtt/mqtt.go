// Package mqtt is the `mqtt` event source type: every named entry of an
// EventSource's spec.mqtt subscribes to one topic filter of an MQTT broker
// (paho.mqtt.golang, MQTT 3.1.1) and emits each message as an event with
// Argo's data: {"topic", "messageId", "body", "metadata"}, the body base64
// encoded unless `jsonBody` is set.
//
// Where flint differs from Argo Events, on purpose:
//   - Argo subscribes at QoS 0 with a clean session, and paho acknowledges
//     nothing, so a message that arrives while the bus is down, or while the
//     source is not connected, is lost. flint subscribes at QoS 1 with a
//     persistent session (clean session off) under the entry's `clientId`,
//     and sends each PUBACK only after the broker stored the event, in the
//     order the messages arrived (pull.Options.Ordered, as MQTT 3.1.1 asks).
//     The broker keeps what is published to the topic while the source is
//     down for that client id (within its own queue limits: mosquitto's
//     max_queued_messages, 1000 by default, drops the rest), and sends what
//     was not acknowledged again on the next connection.
//   - An event's id: MQTT has no message id that is unique over time (the
//     packet id of a QoS 1 delivery is reused as soon as it is acknowledged),
//     so each delivery gets a new id, and a redelivery (the DUP flag) of a
//     message this process received and has not seen acknowledged gets the
//     id of the first delivery back, so the broker's dedupe drops it: a
//     connection lost or a broker restarted duplicates nothing. A source
//     that stops stores the events in flight first (StopGrace) and waits
//     for the broker to read their acknowledgements. A message redelivered
//     to a new process (after a crash, or a stop whose stores did not end
//     within StopGrace) gets a new id, and may be stored twice: at least
//     once, not exactly once.
//   - A `jsonBody` payload that is not JSON is logged at ERROR and dropped
//     (acknowledged), as Argo drops it; `filter.expression` runs on the event
//     data, and a message it drops is acknowledged, as in Argo.
//   - `connectionBackoff` paces every reconnect, not only the first connect;
//     without one, reconnects go on forever (1 s doubling up to 30 s).
package mqtt

import (
	"context"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/conn"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/pull"
)

// Type is the EventSource type key, and the CloudEvent type, of mqtt events.
const Type = v1alpha1.TypeMQTT

// QoS is the quality of service flint subscribes with: at least once.
const QoS = 1

// secretTimeout bounds reading an entry's secrets in New.
const secretTimeout = 30 * time.Second

func init() {
	sources.Register(Type, sources.Pull, func(es *v1alpha1.EventSource, deps sources.Deps) (sources.Source, error) {
		return New(es, deps)
	})
}

// New validates es's mqtt entries and reads their secrets (TLS, auth), and
// returns their source; it connects to nothing until Run. Problems are field
// errors at `spec.mqtt[<name>].<field>`.
func New(es *v1alpha1.EventSource, deps sources.Deps) (*Source, error) {
	ctx, cancel := context.WithTimeout(context.Background(), secretTimeout)
	defer cancel()
	byName := map[string]*entry{}
	src, err := pull.Build(es, Type, deps, func(name string, log *zap.Logger) (pull.Entry, *apis.FieldError) {
		e, fe := newEntry(ctx, name, es.Spec.MQTT[name], deps, log)
		if fe != nil {
			return pull.Entry{}, fe
		}
		e.events = deps.Metrics.Event(es.Name, name)
		byName[name] = e
		return pull.Entry{Dial: e.dial, Options: e.options()}, nil
	})
	if err != nil {
		return nil, err
	}
	return &Source{runner: src, entries: byName}, nil
}

// newEntry reads one entry's spec; problems are relative to the entry.
func newEntry(ctx context.Context, name string, spec v1alpha1.MQTTEventSource, deps sources.Deps, log *zap.Logger) (*entry, *apis.FieldError) {
	e := &entry{name: name, spec: spec, log: log, ids: newIDBook()}
	errs := checkURL(spec.URL)
	if spec.Topic != "" {
		errs = errs.Also(checkTopic(spec.Topic))
	}
	tlsCfg, fe := conn.TLS(ctx, spec.TLS, deps.Secrets)
	errs = errs.Also(fe)
	e.tls = tlsCfg
	auth, fe := conn.ResolveBasicAuth(ctx, spec.Auth, deps.Secrets)
	errs = errs.Also(fe.ViaField("auth"))
	e.auth = auth
	f, fe := compileFilter(spec.Filter)
	errs = errs.Also(fe)
	e.filter = f
	if errs != nil {
		return nil, errs
	}
	return e, nil
}

// checkURL refuses a broker address paho cannot dial.
func checkURL(raw string) *apis.FieldError {
	u, err := url.Parse(raw)
	if err != nil {
		return apis.ErrInvalidValue(raw, "url", err.Error())
	}
	switch strings.ToLower(u.Scheme) {
	case "tcp", "mqtt", "ssl", "tls", "mqtts", "mqtt+ssl", "tcps", "ws", "wss", "unix":
	default:
		return apis.ErrInvalidValue(raw, "url", "want a broker address such as tcp://host:1883 (schemes tcp, mqtt, ssl, tls, mqtts, tcps, ws, wss, unix)")
	}
	if u.Scheme != "unix" && u.Host == "" {
		return apis.ErrInvalidValue(raw, "url", "no host")
	}
	return nil
}

// checkTopic refuses a topic filter a broker would refuse to subscribe to.
func checkTopic(topic string) *apis.FieldError {
	levels := strings.Split(topic, "/")
	for i, l := range levels {
		switch {
		case l == "#" && i != len(levels)-1:
			return apis.ErrInvalidValue(topic, "topic", "'#' must be the last level")
		case l != "#" && l != "+" && strings.ContainsAny(l, "#+"):
			return apis.ErrInvalidValue(topic, "topic", "'#' and '+' must take a whole level")
		}
	}
	if strings.ContainsRune(topic, 0) {
		return apis.ErrInvalidValue(topic, "topic", "must not hold a NUL character")
	}
	return nil
}

// options are the runner's options of the entry: acknowledgements in
// receive order, reconnects paced by connectionBackoff.
func (e *entry) options() pull.Options {
	o := pull.Options{Name: e.name, Logger: e.log, Ordered: true, Reconnect: pull.Reconnect(e.spec.ConnectionBackoff)}
	return o
}
