package nsq

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/flintevents/flint/pkg/jsontext"
	"github.com/nsqio/go-nsq"
)

// dataEncoder writes the Argo event data of a message:
// {"body":…,"timestamp":"<ns>","nsqdAddress":"…","metadata":{…}}.
type dataEncoder struct {
	jsonBody bool
	metadata []byte // encoded JSON object, nil when empty
}

// errBodyNotJSON is a message body that is not JSON under `jsonBody`.
var errBodyNotJSON = errors.New("the message body is not JSON, and jsonBody says it is")

// encode returns the event data of m. Without jsonBody the body is base64, as
// Go's encoding/json writes Argo's []byte; with it, the body's JSON verbatim.
func (d dataEncoder) encode(m *nsq.Message) ([]byte, error) {
	addr, err := json.Marshal(m.NSQDAddress)
	if err != nil {
		return nil, err
	}
	n := len(`{"body":"","timestamp":"","nsqdAddress":,"metadata":}`) + 20 + len(addr) + len(d.metadata)
	if d.jsonBody {
		n += len(m.Body)
	} else {
		n += jsontext.BytesLen(m.Body)
	}
	out := bytes.NewBuffer(make([]byte, 0, n))
	out.WriteString(`{"body":`)
	if d.jsonBody {
		// Compacted, as Go's encoding/json writes Argo's json.RawMessage.
		if err := json.Compact(out, m.Body); err != nil {
			return nil, errBodyNotJSON
		}
	} else {
		out.Write(jsontext.AppendBytes(out.AvailableBuffer(), m.Body))
	}
	out.WriteString(`,"timestamp":"`)
	out.Write(strconv.AppendInt(out.AvailableBuffer(), m.Timestamp, 10))
	out.WriteString(`","nsqdAddress":`)
	out.Write(addr)
	if d.metadata != nil {
		out.WriteString(`,"metadata":`)
		out.Write(d.metadata)
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}
