package filter

import (
	"fmt"

	cesql "github.com/cloudevents/sdk-go/sql/v2"
	cesqlparser "github.com/cloudevents/sdk-go/sql/v2/parser"
	cesqlutils "github.com/cloudevents/sdk-go/sql/v2/utils"
	cloudevents "github.com/cloudevents/sdk-go/v2"
	"knative.dev/pkg/apis"
)

// cesqlFilter passes when its CloudEvents SQL expression evaluates to true.
// An evaluation error (such as a missing attribute), a result that does not
// cast to a boolean, or an event without a context means no match.
type cesqlFilter struct {
	expr cesql.Expression
}

// Match implements Filter.
func (c cesqlFilter) Match(ev *cloudevents.Event) (matched bool) {
	if ev == nil || ev.Context == nil {
		return false
	}
	defer func() {
		if recover() != nil {
			matched = false
		}
	}()
	v, err := c.expr.Evaluate(*ev)
	if err != nil {
		return false
	}
	if b, ok := v.(bool); ok {
		return b
	}
	v, err = cesqlutils.Cast(v, cesql.BooleanType)
	b, _ := v.(bool)
	return err == nil && b
}

// newCESQL compiles a `cesql` dialect.
func newCESQL(expression string) (Filter, *apis.FieldError) {
	expr, err := parseCESQL(expression)
	if err != nil {
		fe := problem(ErrInvalidExpression)
		fe.Details = fmt.Sprintf("%q: %v", expression, err)
		return nil, fe
	}
	return cesqlFilter{expr: expr}, nil
}

// parseCESQL parses expression, turning a parser panic into an error.
func parseCESQL(expression string) (expr cesql.Expression, err error) {
	defer func() {
		if r := recover(); r != nil {
			expr, err = nil, fmt.Errorf("parser panicked: %v", r)
		}
	}()
	expr, err = cesqlparser.Parse(expression)
	if err == nil && expr == nil {
		err = fmt.Errorf("parser returned no expression")
	}
	return expr, err
}
