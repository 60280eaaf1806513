package v1alpha1

// Trigger type keys: the key under a trigger template that selects the trigger type.
const (
	TriggerTypeK8s             = "k8s"
	TriggerTypeArgoWorkflow    = "argoWorkflow"
	TriggerTypeHTTP            = "http"
	TriggerTypeAWSLambda       = "awsLambda"
	TriggerTypeCustom          = "custom"
	TriggerTypeKafka           = "kafka"
	TriggerTypeNATS            = "nats"
	TriggerTypeSlack           = "slack"
	TriggerTypeOpenWhisk       = "openWhisk"
	TriggerTypeLog             = "log"
	TriggerTypeAzureEventHubs  = "azureEventHubs"
	TriggerTypePulsar          = "pulsar"
	TriggerTypeAzureServiceBus = "azureServiceBus"
	TriggerTypeEmail           = "email"
)

// Trigger is one action of a sensor: its template plus how and when it runs.
type Trigger struct {
	// Template is the trigger specification.
	Template *TriggerTemplate `json:"template,omitempty"`
	// Parameters are applied to the template JSON before it runs.
	Parameters []TriggerParameter `json:"parameters,omitempty"`
	// Policy decides whether a run succeeded.
	Policy *TriggerPolicy `json:"policy,omitempty"`
	// RetryStrategy retries a failed run; no retry when nil.
	RetryStrategy *Backoff `json:"retryStrategy,omitempty"`
	// RateLimit limits how often the trigger runs.
	RateLimit *RateLimit `json:"rateLimit,omitempty"`
	// AtLeastOnce acknowledges the events only after the trigger succeeded.
	AtLeastOnce bool `json:"atLeastOnce,omitempty"`
	// DlqTrigger runs with the same events once the retries are exhausted.
	DlqTrigger *Trigger `json:"dlqTrigger,omitempty"`
}

// RateLimiteUnit is the unit of a rate limit (the spelling is Argo's).
type RateLimiteUnit string

const (
	// Second is a per-second rate.
	Second RateLimiteUnit = "Second"
	// Minute is a per-minute rate.
	Minute RateLimiteUnit = "Minute"
	// Hour is a per-hour rate.
	Hour RateLimiteUnit = "Hour"
)

// RateLimit allows RequestsPerUnit runs per Unit.
type RateLimit struct {
	Unit            RateLimiteUnit `json:"unit,omitempty"`
	RequestsPerUnit int32          `json:"requestsPerUnit,omitempty"`
}

// TriggerTemplate names a trigger, says when it fires and holds exactly one trigger type.
type TriggerTemplate struct {
	// Name is unique within the sensor.
	Name string `json:"name"`
	// Conditions is a boolean expression over dependency names, e.g. "(a || b) && c";
	// empty means all dependencies.
	Conditions string `json:"conditions,omitempty"`

	K8s             *StandardK8STrigger       `json:"k8s,omitempty"`
	ArgoWorkflow    *ArgoWorkflowTrigger      `json:"argoWorkflow,omitempty"`
	HTTP            *HTTPTrigger              `json:"http,omitempty"`
	AWSLambda       *AWSLambdaTrigger         `json:"awsLambda,omitempty"`
	CustomTrigger   *CustomTrigger            `json:"custom,omitempty"`
	Kafka           *KafkaTrigger             `json:"kafka,omitempty"`
	NATS            *NATSTrigger              `json:"nats,omitempty"`
	Slack           *SlackTrigger             `json:"slack,omitempty"`
	OpenWhisk       *OpenWhiskTrigger         `json:"openWhisk,omitempty"`
	Log             *LogTrigger               `json:"log,omitempty"`
	AzureEventHubs  *AzureEventHubsTrigger    `json:"azureEventHubs,omitempty"`
	Pulsar          *PulsarTrigger            `json:"pulsar,omitempty"`
	ConditionsReset []ConditionsResetCriteria `json:"conditionsReset,omitempty"`
	AzureServiceBus *AzureServiceBusTrigger   `json:"azureServiceBus,omitempty"`
	Email           *EmailTrigger             `json:"email,omitempty"`
}

// ConditionsResetCriteria says when partially satisfied conditions are discarded.
type ConditionsResetCriteria struct {
	ByTime *ConditionsResetByTime `json:"byTime,omitempty"`
}

// ConditionsResetByTime resets conditions at each tick of a 5-field cron schedule.
type ConditionsResetByTime struct {
	Cron     string `json:"cron,omitempty"`
	Timezone string `json:"timezone,omitempty"`
}

// TriggerParameterOperation is how a parameter value combines with the value at its destination.
type TriggerParameterOperation string

const (
	// TriggerParameterOpNone overwrites.
	TriggerParameterOpNone TriggerParameterOperation = ""
	// TriggerParameterOpAppend appends the new value to the existing one.
	TriggerParameterOpAppend TriggerParameterOperation = "append"
	// TriggerParameterOpOverwrite replaces the existing value.
	TriggerParameterOpOverwrite TriggerParameterOperation = "overwrite"
	// TriggerParameterOpPrepend prepends the new value to the existing one.
	TriggerParameterOpPrepend TriggerParameterOperation = "prepend"
)

// TriggerParameter sets the value taken from an event at an sjson path (Dest).
type TriggerParameter struct {
	// Src says where the value comes from.
	Src *TriggerParameterSource `json:"src,omitempty"`
	// Dest is the sjson path the value goes to; "" in a payload list means the whole payload.
	Dest string `json:"dest"`
	// Operation combines the value with what is at Dest.
	Operation TriggerParameterOperation `json:"operation,omitempty"`
}

// TriggerParameterSource takes a value from the event of a dependency.
type TriggerParameterSource struct {
	// DependencyName names the dependency whose event is read.
	DependencyName string `json:"dependencyName"`
	// ContextKey is a gjson path into the event context.
	ContextKey string `json:"contextKey,omitempty"`
	// ContextTemplate is a Go template over the event context.
	ContextTemplate string `json:"contextTemplate,omitempty"`
	// DataKey is a gjson path into the event data.
	DataKey string `json:"dataKey,omitempty"`
	// DataTemplate is a Go template over the event data.
	DataTemplate string `json:"dataTemplate,omitempty"`
	// Value is the default when nothing else resolves.
	Value *string `json:"value,omitempty"`
	// UseRawData inserts non-string values as JSON rather than as strings.
	UseRawData bool `json:"useRawData,omitempty"`
}

// TriggerPolicy decides whether a trigger run succeeded.
type TriggerPolicy struct {
	// K8s waits for labels on the created resource.
	K8s *K8SResourcePolicy `json:"k8s,omitempty"`
	// Status accepts only the listed response status codes.
	Status *StatusPolicy `json:"status,omitempty"`
}

// K8SResourcePolicy polls a created resource until it carries Labels.
type K8SResourcePolicy struct {
	Labels                map[string]string `json:"labels,omitempty"`
	Backoff               *Backoff          `json:"backoff"`
	ErrorOnBackoffTimeout bool              `json:"errorOnBackoffTimeout"`
}

// StatusPolicy lists the response status codes that count as success.
type StatusPolicy struct {
	Allow []int32 `json:"allow"`
}

// GetAllow returns the allowed status codes as ints.
func (p *StatusPolicy) GetAllow() []int {
	out := make([]int, len(p.Allow))
	for i, s := range p.Allow {
		out[i] = int(s)
	}
	return out
}
