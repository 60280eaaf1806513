package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CalendarEventSource emits events on a cron schedule or at a fixed interval.
type CalendarEventSource struct {
	// Schedule is a cron expression; it takes precedence over Interval.
	Schedule string `json:"schedule"`
	// Interval is a Go duration such as "10s".
	Interval string `json:"interval"`
	// ExclusionDates are dates on which no event is emitted.
	ExclusionDates []string `json:"exclusionDates,omitempty"`
	// Timezone is the IANA zone the schedule runs in.
	Timezone    string             `json:"timezone,omitempty"`
	Metadata    map[string]string  `json:"metadata,omitempty"`
	Persistence *EventPersistence  `json:"persistence,omitempty"`
	Filter      *EventSourceFilter `json:"filter,omitempty"`
}

// EventPersistence keeps the last emitted time so missed ticks can be caught up.
type EventPersistence struct {
	Catchup   *CatchupConfiguration `json:"catchup,omitempty"`
	ConfigMap *ConfigMapPersistence `json:"configMap,omitempty"`
}

// CatchupConfiguration enables emitting missed schedules after a restart.
type CatchupConfiguration struct {
	Enabled     bool   `json:"enabled,omitempty"`
	MaxDuration string `json:"maxDuration,omitempty"`
}

// ConfigMapPersistence names the ConfigMap that stores calendar state.
type ConfigMapPersistence struct {
	Name             string `json:"name,omitempty"`
	CreateIfNotExist bool   `json:"createIfNotExist,omitempty"`
}

// ResourceEventType is a change on a Kubernetes object.
type ResourceEventType string

const (
	// ADD is an object creation.
	ADD ResourceEventType = "ADD"
	// UPDATE is an object update.
	UPDATE ResourceEventType = "UPDATE"
	// DELETE is an object deletion.
	DELETE ResourceEventType = "DELETE"
)

// ResourceEventSource watches Kubernetes objects of one group/version/resource.
type ResourceEventSource struct {
	Namespace                   string          `json:"namespace"`
	Filter                      *ResourceFilter `json:"filter,omitempty"`
	metav1.GroupVersionResource `json:",inline"`
	EventTypes                  []ResourceEventType `json:"eventTypes"`
	Metadata                    map[string]string   `json:"metadata,omitempty"`
}

// ResourceFilter restricts the watched objects.
type ResourceFilter struct {
	Prefix     string      `json:"prefix,omitempty"`
	Labels     []Selector  `json:"labels,omitempty"`
	Fields     []Selector  `json:"fields,omitempty"`
	CreatedBy  metav1.Time `json:"createdBy,omitempty"`
	AfterStart bool        `json:"afterStart,omitempty"`
}

// Selector is one label or field condition: key, operation (default "=="), value.
type Selector struct {
	Key       string `json:"key"`
	Operation string `json:"operation,omitempty"`
	Value     string `json:"value"`
}

// WatchPathConfig names the directory and file (or file pattern) to watch.
type WatchPathConfig struct {
	Directory  string `json:"directory"`
	Path       string `json:"path,omitempty"`
	PathRegexp string `json:"pathRegexp,omitempty"`
}

// FileEventSource watches a local path for file system events.
type FileEventSource struct {
	EventType       string             `json:"eventType"`
	WatchPathConfig WatchPathConfig    `json:"watchPathConfig"`
	Polling         bool               `json:"polling,omitempty"`
	Metadata        map[string]string  `json:"metadata,omitempty"`
	Filter          *EventSourceFilter `json:"filter,omitempty"`
}

// SFTPEventSource polls an SFTP directory.
type SFTPEventSource struct {
	EventType            string                    `json:"eventType"`
	WatchPathConfig      WatchPathConfig           `json:"watchPathConfig"`
	Username             *corev1.SecretKeySelector `json:"username,omitempty"`
	Password             *corev1.SecretKeySelector `json:"password,omitempty"`
	SSHKeySecret         *corev1.SecretKeySelector `json:"sshKeySecret,omitempty"`
	Address              *corev1.SecretKeySelector `json:"address,omitempty"`
	Metadata             map[string]string         `json:"metadata,omitempty"`
	Filter               *EventSourceFilter        `json:"filter,omitempty"`
	PollIntervalDuration string                    `json:"pollIntervalDuration"`
}

// HDFSEventSource polls an HDFS directory.
type HDFSEventSource struct {
	WatchPathConfig         `json:",inline"`
	Type                    string                       `json:"type"`
	CheckInterval           string                       `json:"checkInterval,omitempty"`
	Addresses               []string                     `json:"addresses"`
	HDFSUser                string                       `json:"hdfsUser,omitempty"`
	KrbCCacheSecret         *corev1.SecretKeySelector    `json:"krbCCacheSecret,omitempty"`
	KrbKeytabSecret         *corev1.SecretKeySelector    `json:"krbKeytabSecret,omitempty"`
	KrbUsername             string                       `json:"krbUsername,omitempty"`
	KrbRealm                string                       `json:"krbRealm,omitempty"`
	KrbConfigConfigMap      *corev1.ConfigMapKeySelector `json:"krbConfigConfigMap,omitempty"`
	KrbServicePrincipalName string                       `json:"krbServicePrincipalName,omitempty"`
	Metadata                map[string]string            `json:"metadata,omitempty"`
	Filter                  *EventSourceFilter           `json:"filter,omitempty"`
}

// GenericEventSource connects to a user's gRPC event source server.
type GenericEventSource struct {
	URL        string                    `json:"url"`
	Config     string                    `json:"config"`
	Insecure   bool                      `json:"insecure,omitempty"`
	JSONBody   bool                      `json:"jsonBody,omitempty"`
	Metadata   map[string]string         `json:"metadata,omitempty"`
	AuthSecret *corev1.SecretKeySelector `json:"authSecret,omitempty"`
	Filter     *EventSourceFilter        `json:"filter,omitempty"`
}
