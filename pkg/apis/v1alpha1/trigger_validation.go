package v1alpha1

import (
	"fmt"
	"strings"

	"knative.dev/pkg/apis"
)

// validate checks a trigger against the sensor's dependencies (name → index);
// dlq is true for a dlqTrigger, which need not be named uniquely.
func (t *Trigger) validate(deps map[string]int, dlq bool) *apis.FieldError {
	var errs *apis.FieldError
	if t.Template == nil {
		errs = errs.Also(apis.ErrMissingField("template"))
	} else {
		errs = errs.Also(t.Template.validate(deps).ViaField("template"))
	}
	errs = errs.Also(validateParameters(t.Parameters, deps, true, "parameters"))
	if p := t.Policy; p != nil {
		var perrs *apis.FieldError
		if p.Status != nil {
			var serrs *apis.FieldError
			serrs = serrs.Also(requireList(len(p.Status.Allow), "allow"))
			for i, code := range p.Status.Allow {
				if code < 100 || code > 599 {
					serrs = serrs.Also(apis.ErrOutOfBoundsValue(code, 100, 599, apis.CurrentField).ViaIndex(i).ViaField("allow"))
				}
			}
			perrs = perrs.Also(serrs.ViaField("status"))
		}
		if p.K8s != nil {
			perrs = perrs.Also(validateBackoff(p.K8s.Backoff, "backoff").ViaField("k8s"))
		}
		errs = errs.Also(perrs.ViaField("policy"))
	}
	errs = errs.Also(validateBackoff(t.RetryStrategy, "retryStrategy"))
	if r := t.RateLimit; r != nil {
		var rerrs *apis.FieldError
		rerrs = rerrs.Also(oneOf(string(r.Unit), "unit", []string{"", string(Second), string(Minute), string(Hour)}))
		if r.RequestsPerUnit < 1 {
			rerrs = rerrs.Also(apis.ErrInvalidValue(r.RequestsPerUnit, "requestsPerUnit", "must be at least 1"))
		}
		errs = errs.Also(rerrs.ViaField("rateLimit"))
	}
	if t.DlqTrigger != nil {
		if dlq {
			errs = errs.Also(apis.ErrDisallowedFields("dlqTrigger"))
		} else {
			if !t.AtLeastOnce {
				errs = errs.Also(apis.ErrGeneric("must be true when dlqTrigger is set", "atLeastOnce"))
			}
			if !t.DlqTrigger.AtLeastOnce {
				errs = errs.Also(apis.ErrGeneric("must be true in a dlqTrigger", "dlqTrigger.atLeastOnce"))
			}
			errs = errs.Also(t.DlqTrigger.validate(deps, true).ViaField("dlqTrigger"))
		}
	}
	return errs
}

func (t *TriggerTemplate) validate(deps map[string]int) *apis.FieldError {
	var errs *apis.FieldError
	errs = errs.Also(requireString(t.Name, "name"))
	for i, r := range t.ConditionsReset {
		var rerrs *apis.FieldError
		if r.ByTime == nil {
			rerrs = apis.ErrMissingField("byTime")
		} else {
			var berrs *apis.FieldError
			if r.ByTime.Cron == "" {
				berrs = apis.ErrMissingField("cron") // its syntax is the sensor engine's to check
			}
			berrs = berrs.Also(validateTimezone(r.ByTime.Timezone, "timezone"))
			rerrs = berrs.ViaField("byTime")
		}
		errs = errs.Also(rerrs.ViaFieldIndex("conditionsReset", i))
	}
	keys := t.TypeKeys()
	if len(keys) != 1 {
		got := "none"
		if len(keys) > 1 {
			got = strings.Join(keys, ", ")
		}
		return errs.Also(apis.ErrGeneric(fmt.Sprintf("expected exactly one of [%s], got %s",
			strings.Join(TriggerTypeKeys(), ", "), got), apis.CurrentField))
	}
	return errs.Also(t.validateType(keys[0], deps).ViaField(keys[0]))
}

var parameterOperations = []string{"", string(TriggerParameterOpOverwrite), string(TriggerParameterOpAppend), string(TriggerParameterOpPrepend)}

// validateParameters checks a parameter list; destRequired is false for payload
// lists, where an empty dest means the whole payload.
func validateParameters(params []TriggerParameter, deps map[string]int, destRequired bool, field string) *apis.FieldError {
	var errs *apis.FieldError
	for i := range params {
		errs = errs.Also(params[i].validate(deps, destRequired).ViaFieldIndex(field, i))
	}
	return errs
}

func (p *TriggerParameter) validate(deps map[string]int, destRequired bool) *apis.FieldError {
	var errs *apis.FieldError
	if destRequired {
		errs = errs.Also(requireString(p.Dest, "dest"))
	}
	errs = errs.Also(oneOf(string(p.Operation), "operation", parameterOperations))
	if p.Src == nil {
		return errs.Also(apis.ErrMissingField("src"))
	}
	var serrs *apis.FieldError
	if p.Src.DependencyName == "" {
		serrs = apis.ErrMissingField("dependencyName")
	} else if _, ok := deps[p.Src.DependencyName]; !ok {
		serrs = apis.ErrInvalidValue(p.Src.DependencyName, "dependencyName", "unknown dependency")
	}
	return errs.Also(serrs.ViaField("src"))
}
