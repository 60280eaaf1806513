package mqtt

import (
	"context"
	"crypto/tls"
	"strings"

	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/conn"
	"github.com/flintevents/flint/pkg/metrics"
	"github.com/flintevents/flint/sources/filter"

	"go.uber.org/zap"
)

// entry is one mqtt entry with its secrets read: what each dial of it needs.
type entry struct {
	name   string
	spec   v1alpha1.MQTTEventSource
	tls    *tls.Config     // nil without a tls block
	auth   *conn.BasicAuth // nil without an auth block
	filter *filter.Filter  // nil without an expression
	log    *zap.Logger
	events *metrics.SourceEvent
	// ids outlives each connection: a message redelivered after a
	// reconnect gets the id of its first delivery back.
	ids *idBook
}

// compileFilter compiles the entry's filter expression; nil for none.
func compileFilter(spec *v1alpha1.EventSourceFilter) (*filter.Filter, *apis.FieldError) {
	if spec == nil || strings.TrimSpace(spec.Expression) == "" {
		return nil, nil
	}
	f, err := filter.Compile(spec.Expression)
	if err != nil {
		return nil, apis.ErrInvalidValue(spec.Expression, "filter.expression", err.Error())
	}
	return f, nil
}

// pass reports whether the entry's filter passes data, and why not.
func (e *entry) pass(ctx context.Context, data []byte) (bool, string) {
	if e.filter == nil {
		return true, ""
	}
	ok, err := e.filter.MatchContext(ctx, data, filter.DefaultTimeout)
	switch {
	case err != nil:
		return false, err.Error()
	case !ok:
		return false, "expression is false"
	}
	return true, ""
}
