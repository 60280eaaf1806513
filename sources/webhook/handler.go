package webhook

import (
	"net/http"

	"github.com/flintevents/flint/pkg/jsonlimit"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/receiver"
)

// handler turns the requests of one entry's route into events; the receiver
// has checked auth, method and size, and masked the Authorization header.
type handler struct {
	*entry
	emit sources.Emitter
}

// ServeHTTP implements http.Handler.
func (h *handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	header := appendHeaderJSON(make([]byte, 0, 512), req.Header)
	data, status, err := eventData(req, header, h.metadata, jsonlimit.DefaultMaxDepth)
	if err != nil {
		h.Log.Debugw("request rejected", "status", status, "error", err)
		receiver.Reply(w, status, err.Error())
		return
	}
	// Answer only once the broker has stored the event.
	h.Push(w, req, h.emit, sources.Event{Name: h.Name, Data: data})
}
