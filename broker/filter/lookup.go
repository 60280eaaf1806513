package filter

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
)

// attrKind says where an attribute's value lives in an event context.
type attrKind uint8

// The attribute kinds, cheapest to read first; a condition list is evaluated
// in this order so cheap mismatches end the work early.
const (
	kindType attrKind = iota
	kindSubject
	kindID
	kindSpecVersion
	kindDataContentType
	kindDataMediaType
	kindDataContentEncoding
	kindExtension
	kindSource
	kindDataSchema
	kindTime
)

// attribute names one CloudEvents context attribute a filter reads.
type attribute struct {
	name string
	kind attrKind
}

// attributeNamed resolves a filter's attribute name. The context attributes
// (and the aliases schemaurl and datamediatype) are read from the context;
// every other name is an extension.
func attributeNamed(name string) attribute {
	kind := kindExtension
	switch name {
	case "type":
		kind = kindType
	case "subject":
		kind = kindSubject
	case "id":
		kind = kindID
	case "specversion":
		kind = kindSpecVersion
	case "datacontenttype":
		kind = kindDataContentType
	case "datamediatype":
		kind = kindDataMediaType
	case "datacontentencoding":
		kind = kindDataContentEncoding
	case "source":
		kind = kindSource
	case "dataschema", "schemaurl":
		kind = kindDataSchema
	case "time":
		kind = kindTime
	}
	return attribute{name: name, kind: kind}
}

// validAttributeName reports whether name matches ^[a-z][a-z0-9]*$.
func validAttributeName(name string) bool {
	if name == "" || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// test applies o with want to attribute a of ev. An attribute that is absent
// or empty never passes. Values that are not strings in the event (source,
// dataschema, time, non-string extensions) are rendered into a stack buffer, so
// the common shapes are tested without allocating.
func (a attribute) test(ev *cloudevents.Event, o op, want string) bool {
	if ev == nil || ev.Context == nil {
		return false
	}
	ec, ok := ev.Context.(*event.EventContextV1)
	if !ok {
		return a.testContext(ev.Context, o, want)
	}
	switch a.kind {
	case kindType:
		return o.str(ec.Type, want)
	case kindSubject:
		return ec.Subject != nil && o.str(*ec.Subject, want)
	case kindID:
		return o.str(ec.ID, want)
	case kindSpecVersion:
		return o.str(event.CloudEventsVersionV1, want)
	case kindDataContentType:
		return ec.DataContentType != nil && o.str(*ec.DataContentType, want)
	case kindDataMediaType:
		return ec.DataContentType != nil && o.str(mediaType(*ec.DataContentType), want)
	case kindDataContentEncoding:
		return false // not a CloudEvents 1.0 attribute
	case kindSource:
		var buf [128]byte
		return o.bytes(appendURI(buf[:0], &ec.Source.URL), want)
	case kindDataSchema:
		if ec.DataSchema == nil {
			return false
		}
		var buf [128]byte
		return o.bytes(appendURI(buf[:0], &ec.DataSchema.URL), want)
	case kindTime:
		if ec.Time == nil {
			return false
		}
		var buf [64]byte
		b, ok := appendTime(buf[:0], ec.Time.Time)
		return ok && o.bytes(b, want)
	default:
		v, ok := ec.Extensions[a.name]
		return ok && testValue(v, o, want)
	}
}

// testContext is test for contexts other than CloudEvents 1.0, read through
// the EventContext accessors.
func (a attribute) testContext(ec event.EventContext, o op, want string) bool {
	switch a.kind {
	case kindType:
		return o.str(ec.GetType(), want)
	case kindSubject:
		return o.str(ec.GetSubject(), want)
	case kindID:
		return o.str(ec.GetID(), want)
	case kindSpecVersion:
		return o.str(ec.GetSpecVersion(), want)
	case kindDataContentType:
		return o.str(ec.GetDataContentType(), want)
	case kindDataMediaType:
		mt, err := ec.GetDataMediaType()
		return err == nil && o.str(mt, want)
	case kindDataContentEncoding:
		return o.str(ec.DeprecatedGetDataContentEncoding(), want)
	case kindSource:
		return o.str(ec.GetSource(), want)
	case kindDataSchema:
		return o.str(ec.GetDataSchema(), want)
	case kindTime:
		t := ec.GetTime()
		if t.IsZero() {
			return false
		}
		var buf [64]byte
		b, ok := appendTime(buf[:0], t)
		return ok && o.bytes(b, want)
	default:
		v, err := ec.GetExtension(a.name)
		return err == nil && testValue(v, o, want)
	}
}

// testValue applies o with want to an extension value rendered as its
// CloudEvents canonical string.
func testValue(v any, o op, want string) bool {
	var buf [64]byte
	switch v := v.(type) {
	case string:
		return o.str(v, want)
	case bool:
		return o.str(strconv.FormatBool(v), want)
	case int32:
		return o.bytes(strconv.AppendInt(buf[:0], int64(v), 10), want)
	case []byte:
		return o.bytes(base64.StdEncoding.AppendEncode(buf[:0], v), want)
	case types.URIRef:
		return o.bytes(appendURI(buf[:0], &v.URL), want)
	case types.URI:
		return o.bytes(appendURI(buf[:0], &v.URL), want)
	case types.Timestamp:
		return o.bytes(v.Time.UTC().AppendFormat(buf[:0], time.RFC3339Nano), want)
	case nil:
		return false
	default:
		s, err := types.Format(v)
		return err == nil && o.str(s, want)
	}
}

// mediaType is the media type of a datacontenttype, without parameters.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		return strings.TrimSpace(ct[:i])
	}
	return ct
}

// appendTime appends t as RFC 3339 text with its own offset, the form
// time.Time.MarshalText gives; years outside 0..9999 have no such form.
func appendTime(dst []byte, t time.Time) ([]byte, bool) {
	if y := t.Year(); y < 0 || y > 9999 {
		return dst, false
	}
	return t.AppendFormat(dst, time.RFC3339Nano), true
}
