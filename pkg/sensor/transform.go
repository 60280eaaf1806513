package sensor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/itchyny/gojq"
	lua "github.com/yuin/gopher-lua"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/pkg/jsonlimit"
)

// errNotTable is returned when a transform script does not return a table.
var errNotTable = errors.New("script did not return a table")

// transformer rewrites the data of an event before its dependency's filters run.
type transformer interface {
	apply(ctx context.Context, ev *event.Event) (*event.Event, error)
}

// newTransformer compiles a dependency transform; jq wins over script when
// both are set, as in Argo Events. It returns nil when there is nothing to
// do; problem paths are relative to `transform`.
func newTransformer(t *v1alpha1.EventDependencyTransformer) (transformer, *apis.FieldError) {
	switch {
	case t == nil:
		return nil, nil
	case t.JQ != "":
		var lerr *apis.FieldError
		if t.Script != "" {
			if _, err := compileLua("transform", t.Script); err != nil {
				lerr = luaProblem(err, "script")
			}
		}
		q, err := gojq.Parse(t.JQ)
		if err != nil {
			return nil, apis.ErrInvalidValue(t.JQ, "jq", err.Error()).Also(lerr)
		}
		if err := boundJQ(q); err != nil {
			return nil, apis.ErrInvalidValue(t.JQ, "jq", err.Error()).Also(lerr)
		}
		code, err := gojq.Compile(q, jqOptions()...)
		if err != nil {
			return nil, apis.ErrInvalidValue(t.JQ, "jq", err.Error()).Also(lerr)
		}
		return &jqTransform{code: code}, lerr
	case t.Script != "":
		proto, err := compileLua("transform", t.Script)
		if err != nil {
			return nil, luaProblem(err, "script")
		}
		return &luaTransform{proto: proto}, nil
	default:
		return nil, apis.ErrGeneric("expected jq or script", apis.CurrentField)
	}
}

// jqTransform runs a jq program on the event data (a JSON object); its first
// output, which must be an object, becomes the new data.
type jqTransform struct {
	code *gojq.Code
}

func (t *jqTransform) apply(ctx context.Context, ev *event.Event) (*event.Event, error) {
	if len(ev.Data) == 0 {
		return ev, nil
	}
	data, err := decodeObject(ev.Data)
	if err != nil {
		return nil, fmt.Errorf("transform jq: decoding event data: %w", err)
	}
	e := startEval(ctx)
	defer e.done()
	out, ok := t.code.RunWithContext(e.context(), data).Next()
	if !ok {
		return nil, errors.New("transform jq: no output")
	}
	if err, ok := out.(error); ok {
		if stopped := e.err(); stopped != nil {
			return nil, fmt.Errorf("transform jq: %w", stopped)
		}
		return nil, fmt.Errorf("transform jq: %w", err)
	}
	obj, ok := out.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("transform jq: output must be a JSON object, not %s", jsonKind(out))
	}
	return withData(ev, obj)
}

// luaTransform runs a Lua script with the global `event` set to the event
// data; the table it returns becomes the new data.
type luaTransform struct {
	proto *lua.FunctionProto
}

func (t *luaTransform) apply(ctx context.Context, ev *event.Event) (*event.Event, error) {
	if len(ev.Data) == 0 {
		return ev, nil
	}
	data, err := decodeObject(ev.Data)
	if err != nil {
		return nil, fmt.Errorf("transform script: decoding event data: %w", err)
	}
	ret, err := runLua(ctx, t.proto, data)
	if err != nil {
		return nil, fmt.Errorf("transform script: %w", err)
	}
	tbl, ok := ret.(*lua.LTable)
	if !ok {
		return nil, fmt.Errorf("transform script: %w (got %s)", errNotTable, ret.Type())
	}
	out, err := fromLua(tbl)
	if err != nil {
		return nil, fmt.Errorf("transform script: %w", err)
	}
	return withData(ev, out)
}

// decodeObject decodes event data that must be a JSON object, after a
// linear check that it is nested at most jsonlimit.DefaultMaxDepth levels,
// so that a hostile nesting never reaches the recursive decoder.
func decodeObject(b []byte) (map[string]any, error) {
	if err := jsonlimit.Check(b, jsonlimit.DefaultMaxDepth); errors.Is(err, jsonlimit.ErrTooDeep) {
		return nil, errDataTooDeep
	}
	var data map[string]any
	if err := json.Unmarshal(b, &data); err != nil {
		return nil, err
	}
	return data, nil
}

// withData returns a copy of ev whose data is v as JSON.
func withData(ev *event.Event, v any) (*event.Event, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding transformed data: %w", err)
	}
	out := *ev
	out.Context.DataContentType = "application/json"
	out.Data = data
	return &out, nil
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return "a number"
	}
}
