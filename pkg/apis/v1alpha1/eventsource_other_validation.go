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

func (s *EventSourceSpec) validateOtherSources() *apis.FieldError {
	var errs *apis.FieldError
	errs = errs.Also(validateEntries(TypeCalendar, s.Calendar, func(c *CalendarEventSource) *apis.FieldError {
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
	}))
	errs = errs.Also(validateEntries(TypeResource, s.Resource, func(r *ResourceEventSource) *apis.FieldError {
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
	}))
	errs = errs.Also(validateEntries(TypeFile, s.File, func(f *FileEventSource) *apis.FieldError {
		return validateFilter(f.Filter).Also(
			validateFileEventType(f.EventType),
			f.WatchPathConfig.validate().ViaField("watchPathConfig"))
	}))
	errs = errs.Also(validateEntries(TypeSFTP, s.SFTP, func(f *SFTPEventSource) *apis.FieldError {
		return validateFilter(f.Filter).Also(
			validateFileEventType(f.EventType),
			f.WatchPathConfig.validate().ViaField("watchPathConfig"),
			requireSecretRef(f.Address, "address"),
			validateSecretRef(f.Username, "username"),
			validateSecretRef(f.Password, "password"),
			validateSecretRef(f.SSHKeySecret, "sshKeySecret"),
			validateDuration(f.PollIntervalDuration, "pollIntervalDuration"))
	}))
	errs = errs.Also(validateEntries(TypeHDFS, s.HDFS, func(h *HDFSEventSource) *apis.FieldError {
		return validateFilter(h.Filter).Also(
			requireString(h.Type, "type"),
			requireList(len(h.Addresses), "addresses"),
			h.WatchPathConfig.validate(),
			validateDuration(h.CheckInterval, "checkInterval"),
			validateSecretRef(h.KrbCCacheSecret, "krbCCacheSecret"),
			validateSecretRef(h.KrbKeytabSecret, "krbKeytabSecret"),
			validateConfigMapRef(h.KrbConfigConfigMap, "krbConfigConfigMap"))
	}))
	errs = errs.Also(validateEntries(TypeGeneric, s.Generic, func(g *GenericEventSource) *apis.FieldError {
		return validateFilter(g.Filter).Also(
			requireString(g.URL, "url"),
			requireString(g.Config, "config"),
			validateSecretRef(g.AuthSecret, "authSecret"))
	}))
	return errs
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
