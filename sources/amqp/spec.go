package amqp

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/conn"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/sources/filter"
	"github.com/flintevents/flint/sources/pull"
)

// secretTimeout bounds reading an entry's secrets in New.
const secretTimeout = 30 * time.Second

func secretContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), secretTimeout)
}

// config is one entry with its defaults applied and its secrets read.
type config struct {
	url       string
	tls       *tls.Config
	auth      *conn.BasicAuth
	exchange  string
	kind      string // the exchange type
	key       string // the routing key
	jsonBody  bool
	metadata  map[string]string
	filter    *filter.Filter
	exDecl    v1alpha1.AMQPExchangeDeclareConfig
	qDecl     v1alpha1.AMQPQueueDeclareConfig
	qArgs     amqp091.Table
	bind      v1alpha1.AMQPQueueBindConfig
	consume   v1alpha1.AMQPConsumeConfig
	reconnect pull.Schedule
}

// Argo Events' defaults of the blocks an entry leaves out.
var (
	defaultExchangeDeclare = v1alpha1.AMQPExchangeDeclareConfig{Durable: true}
	defaultQueueDeclare    = v1alpha1.AMQPQueueDeclareConfig{Exclusive: true}
)

// resolve applies Argo's defaults to spec and reads its secrets; problems
// are relative to the entry.
func resolve(ctx context.Context, spec *v1alpha1.AMQPEventSource, secrets secret.Resolver) (*config, *apis.FieldError) {
	cfg := &config{
		url:       spec.URL,
		exchange:  spec.ExchangeName,
		kind:      spec.ExchangeType,
		key:       spec.RoutingKey,
		jsonBody:  spec.JSONBody,
		metadata:  spec.Metadata,
		exDecl:    defaultExchangeDeclare,
		qDecl:     defaultQueueDeclare,
		reconnect: pull.Reconnect(spec.ConnectionBackoff),
	}
	if spec.ExchangeDeclare != nil {
		cfg.exDecl = *spec.ExchangeDeclare
	}
	if spec.QueueDeclare != nil {
		cfg.qDecl = *spec.QueueDeclare
	}
	if spec.QueueBind != nil {
		cfg.bind = *spec.QueueBind
	}
	if spec.Consume != nil {
		cfg.consume = *spec.Consume
	}
	var errs *apis.FieldError
	if spec.URLSecret != nil {
		u, ferr := conn.SecretValue(ctx, secrets, spec.URLSecret, "urlSecret")
		errs = errs.Also(ferr)
		cfg.url = strings.TrimSpace(u)
	}
	field := "url"
	if spec.URLSecret != nil {
		field = "urlSecret"
	}
	if errs == nil {
		if _, err := amqp091.ParseURI(cfg.url); err != nil {
			// The url is not quoted: from a secret it may hold a password.
			errs = errs.Also(apis.ErrGeneric("not an AMQP url (amqp://user:password@host:port/vhost): "+err.Error(), field))
		}
	}
	if spec.Filter != nil && strings.TrimSpace(spec.Filter.Expression) != "" {
		f, err := filter.Compile(spec.Filter.Expression)
		if err != nil {
			errs = errs.Also(apis.ErrInvalidValue(spec.Filter.Expression, "filter.expression", err.Error()))
		}
		cfg.filter = f
	}
	args, err := queueArguments(cfg.qDecl.Arguments)
	if err != nil {
		errs = errs.Also(apis.ErrInvalidValue(cfg.qDecl.Arguments, "queueDeclare.arguments", err.Error()))
	}
	cfg.qArgs = args
	auth, ferr := conn.ResolveBasicAuth(ctx, spec.Auth, secrets)
	errs = errs.Also(ferr.ViaField("auth"))
	cfg.auth = auth
	tlsCfg, ferr := conn.TLS(ctx, spec.TLS, secrets)
	errs = errs.Also(ferr)
	cfg.tls = tlsCfg
	if errs != nil {
		return nil, errs
	}
	return cfg, nil
}

// queueArguments reads `queueDeclare.arguments`, YAML or JSON, into the
// table queue.declare sends: whole numbers as integers, nested maps as
// tables.
func queueArguments(s string) (amqp091.Table, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	raw, err := yaml.YAMLToJSON([]byte(s))
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("want a map of argument names to values: %w", err)
	}
	t, ok := tableValue(m).(amqp091.Table)
	if !ok {
		return nil, fmt.Errorf("want a map of argument names to values")
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// tableValue turns a decoded JSON value into an AMQP field value.
func tableValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		t := make(amqp091.Table, len(v))
		for k, e := range v {
			t[k] = tableValue(e)
		}
		return t
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = tableValue(e)
		}
		return out
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		f, _ := v.Float64()
		return f
	default:
		return v
	}
}
