package v1alpha1

import (
	"strings"

	"knative.dev/pkg/apis"
)

var (
	resourceEventTypes = []string{string(ADD), string(UPDATE), string(DELETE)}
	labelOperations    = []string{"", "=", "==", "!=", "exists", "!", "notin", "in", "gt", "lt"}
	fieldOperations    = []string{"", "=", "==", "!="}
	fileEventTypes     = []string{"CREATE", "WRITE", "REMOVE", "RENAME", "CHMOD"}
)

// validate checks one entry of its type key; paths are relative to the entry.
func (c *CalendarEventSource) validate() *apis.FieldError {
	errs := validateFilter(c.Filter).Also(validateTimezone(c.Timezone, "timezone"))
	switch {
	case c.Schedule == "" && c.Interval == "":
		errs = errs.Also(expectedAnyOf("schedule", "interval"))
	case c.Schedule != "":
		errs = errs.Also(validateCron(c.Schedule, "schedule"))
	}
	errs = errs.Also(validateDuration(c.Interval, "interval"))
	if p := c.Persistence; p != nil && p.Catchup != nil {
		errs = errs.Also(validateDuration(p.Catchup.MaxDuration, "persistence.catchup.maxDuration"))
	}
	return errs
}

// validate checks one entry of its type key; paths are relative to the entry.
func (r *ResourceEventSource) validate() *apis.FieldError {
	errs := requireString(r.Version, "version").Also(
		requireString(r.Resource, "resource"),
		requireList(len(r.EventTypes), "eventTypes"))
	for i, t := range r.EventTypes {
		errs = errs.Also(oneOf(string(t), apis.CurrentField, resourceEventTypes).ViaFieldIndex("eventTypes", i))
	}
	if f := r.Filter; f != nil {
		var ferrs *apis.FieldError
		for i, l := range f.Labels {
			ferrs = ferrs.Also(requireString(l.Key, "key").Also(oneOf(l.Operation, "operation", labelOperations)).
				ViaFieldIndex("labels", i))
		}
		for i, l := range f.Fields {
			ferrs = ferrs.Also(requireString(l.Key, "key").Also(oneOf(l.Operation, "operation", fieldOperations)).
				ViaFieldIndex("fields", i))
		}
		errs = errs.Also(ferrs.ViaField("filter"))
	}
	return errs
}

// validate checks one entry of its type key; paths are relative to the entry.
func (f *FileEventSource) validate() *apis.FieldError {
	return validateFilter(f.Filter).Also(
		validateFileEventType(f.EventType),
		f.WatchPathConfig.validate().ViaField("watchPathConfig"))
}

// validate checks one entry of its type key; paths are relative to the entry.
func (f *SFTPEventSource) validate() *apis.FieldError {
	return validateFilter(f.Filter).Also(
		validateFileEventType(f.EventType),
		f.WatchPathConfig.validate().ViaField("watchPathConfig"),
		requireSecretRef(f.Address, "address"),
		validateSecretRef(f.Username, "username"),
		validateSecretRef(f.Password, "password"),
		validateSecretRef(f.SSHKeySecret, "sshKeySecret"),
		validateDuration(f.PollIntervalDuration, "pollIntervalDuration"))
}

// validate checks one entry of its type key; paths are relative to the entry.
func (h *HDFSEventSource) validate() *apis.FieldError {
	return validateFilter(h.Filter).Also(
		requireString(h.Type, "type"),
		requireList(len(h.Addresses), "addresses"),
		h.WatchPathConfig.validate(),
		validateDuration(h.CheckInterval, "checkInterval"),
		validateSecretRef(h.KrbCCacheSecret, "krbCCacheSecret"),
		validateSecretRef(h.KrbKeytabSecret, "krbKeytabSecret"),
		validateConfigMapRef(h.KrbConfigConfigMap, "krbConfigConfigMap"))
}

// validate checks one entry of its type key; paths are relative to the entry.
func (g *GenericEventSource) validate() *apis.FieldError {
	return validateFilter(g.Filter).Also(
		requireString(g.URL, "url"),
		requireString(g.Config, "config"),
		validateSecretRef(g.AuthSecret, "authSecret"))
}

func validateFileEventType(t string) *apis.FieldError {
	if t == "" {
		return apis.ErrMissingField("eventType")
	}
	var errs *apis.FieldError
	for _, op := range strings.Split(t, "|") {
		if e := oneOf(op, "eventType", fileEventTypes); e != nil {
			errs = apis.ErrInvalidValue(t, "eventType", "must be one of "+strings.Join(fileEventTypes, ", ")+", or several joined by |")
		}
	}
	return errs
}

func (w *WatchPathConfig) validate() *apis.FieldError {
	errs := requireString(w.Directory, "directory")
	switch {
	case w.Path == "" && w.PathRegexp == "":
		errs = errs.Also(apis.ErrMissingOneOf("path", "pathRegexp"))
	case w.Path != "" && w.PathRegexp != "":
		errs = errs.Also(apis.ErrMultipleOneOf("path", "pathRegexp"))
	case w.PathRegexp != "":
		errs = errs.Also(validateRegexp(w.PathRegexp, "pathRegexp"))
	}
	return errs
}
