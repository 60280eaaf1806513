package v1alpha1

import "knative.dev/pkg/apis"

// triggerType is one row of the trigger type table: how to reach, default
// and check the one trigger type a template sets under its key. Adding a
// type is adding a row.
type triggerType struct {
	key string
	// set reports whether the template sets this type.
	set func(*TriggerTemplate) bool
	// setDefaults fills the type's defaults when it is set.
	setDefaults func(*TriggerTemplate)
	// validate checks the type's fields against the sensor's dependencies
	// (name → index); paths are relative to the key.
	validate func(*TriggerTemplate, map[string]int) *apis.FieldError
}

// triggerTypes is the trigger type table, sorted by key.
var triggerTypes = sortedRows(
	triggerRow(TriggerTypeK8s, func(t *TriggerTemplate) *StandardK8STrigger { return t.K8s },
		(*StandardK8STrigger).setDefaults, (*StandardK8STrigger).validate),
	triggerRow(TriggerTypeArgoWorkflow, func(t *TriggerTemplate) *ArgoWorkflowTrigger { return t.ArgoWorkflow },
		(*ArgoWorkflowTrigger).setDefaults, (*ArgoWorkflowTrigger).validate),
	triggerRow(TriggerTypeHTTP, func(t *TriggerTemplate) *HTTPTrigger { return t.HTTP },
		(*HTTPTrigger).setDefaults, (*HTTPTrigger).validate),
	triggerRow(TriggerTypeAWSLambda, func(t *TriggerTemplate) *AWSLambdaTrigger { return t.AWSLambda },
		nil, (*AWSLambdaTrigger).validate),
	triggerRow(TriggerTypeCustom, func(t *TriggerTemplate) *CustomTrigger { return t.CustomTrigger },
		nil, (*CustomTrigger).validate),
	triggerRow(TriggerTypeKafka, func(t *TriggerTemplate) *KafkaTrigger { return t.Kafka },
		(*KafkaTrigger).setDefaults, (*KafkaTrigger).validate),
	triggerRow(TriggerTypeNATS, func(t *TriggerTemplate) *NATSTrigger { return t.NATS },
		nil, (*NATSTrigger).validate),
	triggerRow(TriggerTypeSlack, func(t *TriggerTemplate) *SlackTrigger { return t.Slack },
		nil, (*SlackTrigger).validate),
	triggerRow(TriggerTypeOpenWhisk, func(t *TriggerTemplate) *OpenWhiskTrigger { return t.OpenWhisk },
		(*OpenWhiskTrigger).setDefaults, (*OpenWhiskTrigger).validate),
	triggerRow(TriggerTypeLog, func(t *TriggerTemplate) *LogTrigger { return t.Log },
		nil, nil),
	triggerRow(TriggerTypeAzureEventHubs, func(t *TriggerTemplate) *AzureEventHubsTrigger { return t.AzureEventHubs },
		nil, (*AzureEventHubsTrigger).validate),
	triggerRow(TriggerTypePulsar, func(t *TriggerTemplate) *PulsarTrigger { return t.Pulsar },
		nil, (*PulsarTrigger).validate),
	triggerRow(TriggerTypeAzureServiceBus, func(t *TriggerTemplate) *AzureServiceBusTrigger { return t.AzureServiceBus },
		nil, (*AzureServiceBusTrigger).validate),
	triggerRow(TriggerTypeEmail, func(t *TriggerTemplate) *EmailTrigger { return t.Email },
		nil, (*EmailTrigger).validate),
)

// triggerRow builds the row of a type held at field; setDefaults and
// validate may be nil when the type has nothing to default or check.
func triggerRow[T any](key string, field func(*TriggerTemplate) *T, setDefaults func(*T),
	validate func(*T, map[string]int) *apis.FieldError) triggerType {
	return triggerType{
		key: key,
		set: func(t *TriggerTemplate) bool { return field(t) != nil },
		setDefaults: func(t *TriggerTemplate) {
			if v := field(t); v != nil && setDefaults != nil {
				setDefaults(v)
			}
		},
		validate: func(t *TriggerTemplate, deps map[string]int) *apis.FieldError {
			if v := field(t); v != nil && validate != nil {
				return validate(v, deps)
			}
			return nil
		},
	}
}

func (t triggerType) typeKey() string { return t.key }

// TriggerTypeKeys lists every trigger type key, sorted.
func TriggerTypeKeys() []string { return rowKeys(triggerTypes) }

// TypeKeys returns the trigger type keys that are set, sorted; a valid template has exactly one.
func (t *TriggerTemplate) TypeKeys() []string {
	var keys []string
	for _, row := range triggerTypes {
		if row.set(t) {
			keys = append(keys, row.key)
		}
	}
	return keys
}

// TypeKey returns the single trigger type key that is set, or "" when none or several are.
func (t *TriggerTemplate) TypeKey() string {
	if keys := t.TypeKeys(); len(keys) == 1 {
		return keys[0]
	}
	return ""
}

// validateType checks the fields of the one trigger type set under key;
// paths are relative to that key.
func (t *TriggerTemplate) validateType(key string, deps map[string]int) *apis.FieldError {
	if row, ok := findRow(triggerTypes, key); ok {
		return row.validate(t, deps)
	}
	return nil
}
