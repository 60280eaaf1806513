package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Sensor listens to events through its dependencies and fires its triggers.
type Sensor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              SensorSpec   `json:"spec"`
	Status            SensorStatus `json:"status,omitempty"`
}

// SensorList is a list of Sensors.
type SensorList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []Sensor `json:"items"`
}

// SensorSpec is the desired state of a Sensor.
type SensorSpec struct {
	// Dependencies are the events the sensor depends on.
	Dependencies []EventDependency `json:"dependencies"`
	// Triggers are the actions the sensor takes.
	Triggers []Trigger `json:"triggers"`
	// Template is the sensor's pod template.
	Template *Template `json:"template,omitempty"`
	// ErrorOnFailedRound marks the sensor in error once a trigger round fails.
	ErrorOnFailedRound bool `json:"errorOnFailedRound,omitempty"`
	// EventBusName names the event bus; "default" when empty.
	EventBusName string `json:"eventBusName,omitempty"`
	// Replicas is the number of sensor replicas.
	Replicas *int32 `json:"replicas,omitempty"`
	// RevisionHistoryLimit is how many old deployment revisions to keep.
	RevisionHistoryLimit *int32 `json:"revisionHistoryLimit,omitempty"`
	// LoggingFields are added to every log line of the sensor.
	LoggingFields map[string]string `json:"loggingFields"`
}

// SensorStatus is the observed state of a Sensor.
type SensorStatus struct {
	Status `json:",inline"`
}

// LogicalOperator says how several filters combine: "and" (also the empty value) or "or".
type LogicalOperator string

const (
	// AndLogicalOperator requires every filter to pass.
	AndLogicalOperator LogicalOperator = "and"
	// OrLogicalOperator requires one filter to pass.
	OrLogicalOperator LogicalOperator = "or"
	// EmptyLogicalOperator is treated as AndLogicalOperator.
	EmptyLogicalOperator LogicalOperator = ""
)

// EventDependency is one event a sensor waits for, selected by EventSource and event name.
type EventDependency struct {
	// Name is unique within the sensor; conditions and parameters refer to it.
	Name string `json:"name"`
	// EventSourceName is the name of the EventSource object.
	EventSourceName string `json:"eventSourceName"`
	// EventName is the entry name under the EventSource's type key.
	EventName string `json:"eventName"`
	// Filters decide whether an event satisfies the dependency.
	Filters *EventDependencyFilter `json:"filters,omitempty"`
	// Transform rewrites the event data before filtering.
	Transform *EventDependencyTransformer `json:"transform,omitempty"`
	// FiltersLogicalOperator says how the filter kinds combine.
	FiltersLogicalOperator LogicalOperator `json:"filtersLogicalOperator,omitempty"`
}

// Matches reports whether an event from EventSource source with event name
// subject (the CloudEvent source and subject) is one this dependency waits for.
func (d *EventDependency) Matches(source, subject string) bool {
	return d.EventSourceName == source && d.EventName == subject
}

// EventDependencyTransformer rewrites event data with jq or a Lua script.
type EventDependencyTransformer struct {
	// JQ is a jq program; its first output must be an object.
	JQ string `json:"jq,omitempty"`
	// Script is a Lua script that returns the new data table.
	Script string `json:"script,omitempty"`
}

// EventContext holds the CloudEvent context of an event; as a filter, its
// non-empty fields must equal the event's.
type EventContext struct {
	ID              string      `json:"id"`
	Source          string      `json:"source"`
	SpecVersion     string      `json:"specversion"`
	Type            string      `json:"type"`
	DataContentType string      `json:"datacontenttype"`
	Subject         string      `json:"subject"`
	Time            metav1.Time `json:"time"`
}

// GetReplicas returns the number of replicas to run: Replicas, at least 1.
func (s SensorSpec) GetReplicas() int32 {
	if s.Replicas == nil || *s.Replicas < 1 {
		return 1
	}
	return *s.Replicas
}
