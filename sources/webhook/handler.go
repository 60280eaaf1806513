package webhook

import (
	"encoding/json"
	"net/http"

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
	header, err := json.Marshal(req.Header)
	if err != nil {
		receiver.Reply(w, http.StatusBadRequest, "invalid headers")
		return
	}
	data, status, err := eventData(req, header, h.metadata)
	if err != nil {
		h.log.Debugw("request rejected", "status", status, "error", err)
		receiver.Reply(w, status, err.Error())
		return
	}
	if h.filter != nil {
		pass, err := h.filter.Match(data)
		if !pass {
			reason := "expression is false"
			if err != nil {
				reason = err.Error()
			}
			h.log.Debugw("event dropped by filter", "filter", h.filter.String(), "reason", reason)
			receiver.Reply(w, http.StatusOK, "success")
			return
		}
	}
	// Answer only once the broker has stored the event.
	if err := h.emit(req.Context(), sources.Event{Name: h.eventName, Data: data}); err != nil {
		h.log.Errorw("event not recorded", "error", err)
		receiver.Reply(w, http.StatusServiceUnavailable, "failed to record event")
		return
	}
	h.log.Infow("event recorded")
	receiver.Reply(w, http.StatusOK, "success")
}
