package dev

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/cloudevents/sdk-go/v2/types"

	"github.com/flintevents/flint/broker"
	fsensor "github.com/flintevents/flint/functions/sensor"
	"github.com/flintevents/flint/sources/host"
)

// localSensorBase is the base URL of the sensor functions when the dispatcher hands
// events to them in process: a name that never resolves (RFC 2606), so a delivery can
// only reach a sensor through localSensors.
const localSensorBase = "http://sensors.flint.invalid"

// maxDeliveryBody bounds the body the in-process sensor edge reads, as the sensors'
// HTTP server does.
const maxDeliveryBody = 8 << 20

// localSensors is the dispatcher's transport in in-process mode: a delivery to
// localSensorBase/<namespace>/<name> is handed to that sensor's function in the calling
// goroutine, with no socket and no server; every other URL (dead-letter sinks, other
// subscribers) goes to next. It answers as the function's HTTP edge does: 202 when
// handled, 400 for something that is not a CloudEvent, 500 when a trigger failed and
// 503 when the delivery was cut short, so the dispatcher's retries, backoff and
// dead-lettering apply unchanged.
type localSensors struct {
	host string
	fns  map[string]*fsensor.Function // by path "/<namespace>/<name>"
	next http.RoundTripper
}

func newLocalSensors(sensors []builtSensor, next http.RoundTripper) *localSensors {
	l := &localSensors{host: strings.TrimPrefix(localSensorBase, "http://"), fns: make(map[string]*fsensor.Function, len(sensors)), next: next}
	for _, s := range sensors {
		l.fns[s.unit.Path] = s.fn
	}
	return l
}

// RoundTrip implements http.RoundTripper.
func (l *localSensors) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != l.host {
		return l.next.RoundTrip(req)
	}
	fn, ok := l.fns[req.URL.Path]
	if !ok {
		return respond(req, http.StatusNotFound, "no sensor at "+req.URL.Path), nil
	}
	ev, err := requestEvent(req)
	if err != nil {
		return respond(req, http.StatusBadRequest, "not a CloudEvent: "+err.Error()), nil
	}
	if _, err := fn.Handle(req.Context(), *ev); err != nil {
		if req.Context().Err() != nil {
			return respond(req, http.StatusServiceUnavailable, ""), nil
		}
		return respond(req, http.StatusInternalServerError, ""), nil
	}
	return respond(req, http.StatusAccepted, ""), nil
}

// requestEvent reads the CloudEvent of a delivery: binary mode directly from the
// headers, anything else through the CloudEvents SDK.
func requestEvent(req *http.Request) (*cloudevents.Event, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		buf := bytes.NewBuffer(make([]byte, 0, max(req.ContentLength, 0)))
		_, err := buf.ReadFrom(io.LimitReader(req.Body, maxDeliveryBody))
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("reading delivery: %w", err)
		}
		body = buf.Bytes()
	}
	if req.Header.Get("Ce-Specversion") != cloudevents.VersionV1 {
		msg := cehttp.NewMessage(req.Header, io.NopCloser(bytes.NewReader(body)))
		ev, err := binding.ToEvent(req.Context(), msg)
		if err != nil {
			return nil, err
		}
		return ev, ev.Validate()
	}
	ev := cloudevents.NewEvent()
	for key, vals := range req.Header {
		if len(vals) == 0 {
			continue
		}
		v := vals[0]
		switch key {
		case "Ce-Specversion":
		case "Ce-Id":
			ev.SetID(v)
		case "Ce-Source":
			ev.SetSource(v)
		case "Ce-Type":
			ev.SetType(v)
		case "Ce-Subject":
			ev.SetSubject(v)
		case "Ce-Time":
			t, err := types.ParseTime(v)
			if err != nil {
				return nil, fmt.Errorf("ce-time: %w", err)
			}
			ev.SetTime(t)
		case "Ce-Dataschema":
			ev.SetDataSchema(v)
		case "Content-Type":
			ev.SetDataContentType(v)
		default:
			if len(key) > 3 && strings.EqualFold(key[:3], "ce-") {
				if err := ev.Context.SetExtension(strings.ToLower(key[3:]), v); err != nil {
					return nil, fmt.Errorf("%s: %w", textproto.CanonicalMIMEHeaderKey(key), err)
				}
			}
		}
	}
	ev.DataEncoded = body
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return &ev, nil
}

func respond(req *http.Request, code int, reason string) *http.Response {
	resp := &http.Response{
		Status:     fmt.Sprintf("%d %s", code, http.StatusText(code)),
		StatusCode: code,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{},
		Body:       http.NoBody,
		Request:    req,
	}
	if reason != "" {
		resp.Header["Content-Type"] = []string{"text/plain; charset=utf-8"}
		resp.Body = io.NopCloser(strings.NewReader(reason))
		resp.ContentLength = int64(len(reason))
	}
	return resp
}

// newTransport is the keep-alive transport deliveries to other URLs take.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
}

// localSink is the in-process emitter path of a source: it stores each event in the
// source's broker through the data plane, as the ingress would, and returns once
// JetStream acknowledged it.
func localSink(dp *broker.DataPlane, namespace, brokerName string) host.Sink {
	return func(ctx context.Context, ev cloudevents.Event) error {
		if err := dp.Publish(ctx, namespace, brokerName, &ev); err != nil {
			return fmt.Errorf("emitting event %s to broker %s/%s: %w", ev.ID(), namespace, brokerName, err)
		}
		return nil
	}
}
