// Package wire is the one encoding of a CloudEvent as a JetStream message body, shared by
// the broker ingress (which stores events) and the dispatcher (which delivers them).
//
// Layout (version 1): magic 0xCE, version 1, uvarint attribute count, then per attribute
// uvarint name length, name, one type tag, uvarint value length, value; the rest of the
// body is the event data, unmodified. Every context attribute and extension is kept with
// its CloudEvents type, so a stored event decodes to an equal event.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
)

const (
	magic   = 0xCE
	version = 1
)

// Type tags of attribute values.
const (
	tagString    = 's'
	tagInt       = 'i'
	tagBool      = 'b'
	tagURI       = 'u'
	tagURIRef    = 'r'
	tagTimestamp = 't'
	tagBinary    = 'y'
)

// Core attribute names as stored.
const (
	attrSpecVersion     = "specversion"
	attrID              = "id"
	attrSource          = "source"
	attrType            = "type"
	attrSubject         = "subject"
	attrTime            = "time"
	attrDataContentType = "datacontenttype"
	attrDataSchema      = "dataschema"
)

// ErrCorrupt means a stored body is not a version 1 encoded event.
var ErrCorrupt = errors.New("corrupt stored event")

// Append encodes ev after dst and returns the extended slice.
func Append(dst []byte, ev *cloudevents.Event) ([]byte, error) {
	exts := Extensions(ev)
	n := 4 + len(exts)
	subject, ctype, schema := ev.Subject(), ev.DataContentType(), ev.DataSchema()
	hasTime := !ev.Time().IsZero()
	for _, set := range []bool{subject != "", ctype != "", schema != "", hasTime} {
		if set {
			n++
		}
	}
	dst = append(dst, magic, version)
	dst = binary.AppendUvarint(dst, uint64(n))
	dst = appendAttr(dst, attrSpecVersion, tagString, ev.SpecVersion())
	dst = appendAttr(dst, attrID, tagString, ev.ID())
	dst = appendAttr(dst, attrSource, tagURIRef, ev.Source())
	dst = appendAttr(dst, attrType, tagString, ev.Type())
	if subject != "" {
		dst = appendAttr(dst, attrSubject, tagString, subject)
	}
	if ctype != "" {
		dst = appendAttr(dst, attrDataContentType, tagString, ctype)
	}
	if schema != "" {
		dst = appendAttr(dst, attrDataSchema, tagURI, schema)
	}
	if hasTime {
		dst = appendAttr(dst, attrTime, tagTimestamp, ev.Time().UTC().Format(time.RFC3339Nano))
	}
	for name, v := range exts {
		tag, s, err := formatValue(v)
		if err != nil {
			return nil, fmt.Errorf("encoding extension %q: %w", name, err)
		}
		dst = appendAttr(dst, name, tag, s)
	}
	return append(dst, ev.Data()...), nil
}

func appendAttr(dst []byte, name string, tag byte, value string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(name)))
	dst = append(dst, name...)
	dst = append(dst, tag)
	dst = binary.AppendUvarint(dst, uint64(len(value)))
	return append(dst, value...)
}

// formatValue returns the type tag and canonical string of an extension value.
func formatValue(v any) (byte, string, error) {
	switch x := v.(type) {
	case string:
		return tagString, x, nil
	case int32:
		return tagInt, strconv.FormatInt(int64(x), 10), nil
	case bool:
		return tagBool, strconv.FormatBool(x), nil
	case types.URI:
		return tagURI, x.String(), nil
	case types.URIRef:
		return tagURIRef, x.String(), nil
	case types.Timestamp:
		return tagTimestamp, x.Time.UTC().Format(time.RFC3339Nano), nil
	case []byte:
		return tagBinary, string(x), nil
	}
	s, err := types.Format(v)
	return tagString, s, err
}

// Decode rebuilds the event stored in body. The event's data aliases body; its
// attribute strings share one copy of the attribute block.
func Decode(body []byte) (*cloudevents.Event, error) {
	if len(body) < 3 || body[0] != magic || body[1] != version {
		return nil, ErrCorrupt
	}
	count, k := binary.Uvarint(body[2:])
	if k <= 0 {
		return nil, ErrCorrupt
	}
	start := 2 + k
	end, err := attrsEnd(body, start, count)
	if err != nil {
		return nil, err
	}
	attrs := string(body[start:end]) // one allocation for every name and value
	ctx := &event.EventContextV1{}
	specVersion := event.CloudEventsVersionV1
	p := attrs
	for range count {
		var name, value string
		name, p = nextString(p)
		tag := p[0]
		value, p = nextString(p[1:])
		if err := setAttr(ctx, &specVersion, name, tag, value); err != nil {
			return nil, fmt.Errorf("decoding attribute %q: %w", name, err)
		}
	}
	ev := event.New(specVersion)
	if specVersion == event.CloudEventsVersionV1 {
		ev.Context = ctx
	} else {
		ev.Context = ctx.AsV03()
	}
	if end < len(body) {
		ev.DataEncoded = body[end:]
	}
	return &ev, nil
}

// attrsEnd checks the layout of count attributes from start and returns where the data begins.
func attrsEnd(body []byte, start int, count uint64) (int, error) {
	p := start
	for range count {
		for field := range 2 {
			n, k := binary.Uvarint(body[p:])
			if k <= 0 || uint64(len(body)-p-k) < n {
				return 0, ErrCorrupt
			}
			p += k + int(n)
			if field == 0 { // a type tag follows the name
				if p >= len(body) {
					return 0, ErrCorrupt
				}
				p++
			}
		}
	}
	return p, nil
}

// nextString reads one length-prefixed string of a block attrsEnd validated.
func nextString(p string) (string, string) {
	var n uint64
	var shift uint
	i := 0
	for ; ; i++ {
		b := p[i]
		n |= uint64(b&0x7f) << shift
		if b < 0x80 {
			break
		}
		shift += 7
	}
	i++
	return p[i : i+int(n)], p[i+int(n):]
}

func setAttr(ctx *event.EventContextV1, specVersion *string, name string, tag byte, value string) error {
	switch name {
	case attrSpecVersion:
		*specVersion = value
		return nil
	case attrID:
		ctx.ID = value
		return nil
	case attrSource:
		u, err := url.Parse(value)
		if err != nil {
			return err
		}
		ctx.Source = types.URIRef{URL: *u}
		return nil
	case attrType:
		ctx.Type = value
		return nil
	case attrSubject:
		ctx.Subject = &value
		return nil
	case attrDataContentType:
		ctx.DataContentType = &value
		return nil
	case attrDataSchema:
		u, err := url.Parse(value)
		if err != nil {
			return err
		}
		ctx.DataSchema = &types.URI{URL: *u}
		return nil
	case attrTime:
		t, err := time.Parse(time.RFC3339Nano, value)
		if err != nil {
			return err
		}
		ctx.Time = &types.Timestamp{Time: t}
		return nil
	}
	v, err := parseValue(tag, value)
	if err != nil {
		return err
	}
	if ctx.Extensions == nil {
		ctx.Extensions = make(map[string]any, 4)
	}
	ctx.Extensions[name] = v
	return nil
}

func parseValue(tag byte, s string) (any, error) {
	switch tag {
	case tagString:
		return s, nil
	case tagInt:
		n, err := strconv.ParseInt(s, 10, 32)
		return int32(n), err
	case tagBool:
		return strconv.ParseBool(s)
	case tagURI:
		u, err := url.Parse(s)
		if err != nil {
			return nil, err
		}
		return types.URI{URL: *u}, nil
	case tagURIRef:
		u, err := url.Parse(s)
		if err != nil {
			return nil, err
		}
		return types.URIRef{URL: *u}, nil
	case tagTimestamp:
		t, err := time.Parse(time.RFC3339Nano, s)
		return types.Timestamp{Time: t}, err
	case tagBinary:
		return []byte(s), nil
	}
	return nil, fmt.Errorf("%w: unknown type tag %q", ErrCorrupt, tag)
}
