package dev

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/flintevents/flint/broker"
	"github.com/flintevents/flint/broker/dispatcher"
	"github.com/flintevents/flint/broker/ingress"
	fsensor "github.com/flintevents/flint/functions/sensor"
	"github.com/flintevents/flint/pkg/sensor"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/host"
)

// localSensorBase is the base URL of the sensor functions when the dispatcher hands
// events to them in process: a name that never resolves (RFC 2606), so a delivery can
// only reach a sensor through localSensors.
const localSensorBase = "http://sensors.flint.invalid"

// localSensors is the dispatcher's view of the sensors in in-process mode: a Trigger
// whose subscriber is localSensorBase/<namespace>/<name> is delivered to that sensor's
// function by a direct call, with no HTTP encoding, socket or server; every other
// subscriber (dead-letter sinks, other URLs) is posted to over HTTP.
func localSensors(sensors []builtSensor) dispatcher.LocalSubscribers {
	host := strings.TrimPrefix(localSensorBase, "http://")
	fns := make(map[string]dispatcher.LocalSubscriber, len(sensors))
	for _, s := range sensors {
		fns[s.unit.Path] = sensorSubscriber{s.fn}
	}
	return func(u *url.URL) dispatcher.LocalSubscriber {
		if u.Host != host {
			return nil
		}
		if fn, ok := fns[u.Path]; ok {
			return fn
		}
		return missingSensor(u.Path)
	}
}

// missingSensor is a subscriber URL under localSensorBase that names no sensor: every
// delivery fails, so the event is retried and then dead-lettered, never dropped.
type missingSensor string

// Receive implements dispatcher.LocalSubscriber.
func (m missingSensor) Receive(context.Context, *cloudevents.Event, int) error {
	return fmt.Errorf("no sensor at %s", string(m))
}

// sensorSubscriber hands the dispatcher's deliveries to a sensor function and tells
// the dispatcher which failures no redelivery can help (sensor.ErrPermanent), so that
// those events are dead-lettered at once, as the function's HTTP edge does with a 422.
type sensorSubscriber struct{ fn *fsensor.Function }

// Receive implements dispatcher.LocalSubscriber.
func (s sensorSubscriber) Receive(ctx context.Context, ev *cloudevents.Event, attempt int) error {
	err := s.fn.Receive(ctx, ev, attempt)
	if errors.Is(err, sensor.ErrPermanent) {
		return notRetryable{err}
	}
	return err
}

// notRetryable is a sensor's failure as the dispatcher sees it: its text is the
// sensor's, and it wraps dispatcher.ErrNotRetryable.
type notRetryable struct{ err error }

func (e notRetryable) Error() string { return e.err.Error() }

func (e notRetryable) Unwrap() []error { return []error{e.err, dispatcher.ErrNotRetryable} }

// localSink is the in-process emitter path of a source: it stores each event in the
// source's broker through the data plane, as the ingress would, and returns once
// JetStream acknowledged it. An event the broker refuses for its size is
// sources.TooLarge, with the ingress's account as its reason, as a 413 of the
// ingress is over HTTP, and one JetStream did not confirm in time (it may be
// stored) is sources.NotConfirmed, as a 504 of the ingress is.
func localSink(dp *broker.DataPlane, namespace, brokerName string) host.Sink {
	return func(ctx context.Context, ev cloudevents.Event) error {
		if err := dp.Publish(ctx, namespace, brokerName, &ev); err != nil {
			if errors.Is(err, ingress.ErrTooLarge) {
				return sources.TooLarge(err.Error(), fmt.Errorf("emitting event %s to broker %s/%s: %w", ev.ID(), namespace, brokerName, err))
			}
			if errors.Is(err, ingress.ErrUnconfirmed) {
				return sources.NotConfirmed(fmt.Errorf("emitting event %s to broker %s/%s: %w", ev.ID(), namespace, brokerName, err))
			}
			return fmt.Errorf("emitting event %s to broker %s/%s: %w", ev.ID(), namespace, brokerName, err)
		}
		return nil
	}
}
