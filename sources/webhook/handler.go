package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

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
	id, err := idempotencyKey(req.Header)
	if err != nil {
		h.Log.Debugw("request rejected", "status", http.StatusBadRequest, "error", err)
		receiver.Reply(w, http.StatusBadRequest, err.Error())
		return
	}
	// Answer only once the broker has stored the event.
	h.Push(w, req, h.emit, sources.Event{Name: h.Name, Data: data, ID: id})
}

// MaxIdempotencyKey is the longest Idempotency-Key a webhook takes, in bytes.
const MaxIdempotencyKey = 255

// idempotencyKey is the event id a caller chose with an Idempotency-Key
// header, or "" (a minted id) without one. The broker stores one event per
// EventSource and id within its duplicate window, so a caller that resends a
// request with the same key (after a 504, or an answer it lost) fires once;
// flint's own HTTP trigger sends one, stable across its retries.
func idempotencyKey(h http.Header) (string, error) {
	key := h.Get("Idempotency-Key")
	switch {
	case len(key) > MaxIdempotencyKey:
		return "", fmt.Errorf("Idempotency-Key of %d bytes, limit %d", len(key), MaxIdempotencyKey)
	case strings.IndexFunc(key, func(r rune) bool { return r < 0x21 || r == 0x7f }) >= 0:
		return "", errors.New("Idempotency-Key holds a space or a control character")
	}
	return key, nil
}
