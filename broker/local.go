package broker

import (
	"context"

	cloudevents "github.com/cloudevents/sdk-go/v2"
)

// Publish stores ev in the broker namespace/name exactly as the ingress stores a POSTed
// event (same checks, de-duplication key and acknowledgement), without HTTP: the path
// of a source running in the same process. It returns once JetStream stored the event,
// and counts it in the ingress's event_count as the status a POST would have got.
func (dp *DataPlane) Publish(ctx context.Context, namespace, name string, ev *cloudevents.Event) error {
	return dp.ingress.CountedPublish(ctx, namespace, name, ev)
}
