package v1alpha1

import (
	"net/http"
	"net/url"
	"strings"

	"knative.dev/pkg/apis"
)

var webhookMethods = []string{http.MethodHead, http.MethodPut, http.MethodConnect, http.MethodDelete,
	http.MethodGet, http.MethodOptions, http.MethodPatch, http.MethodPost, http.MethodTrace}

// validate checks a webhook context; methodRequired is true for the
// `webhook` type, whose method Argo does not default.
func (w *WebhookContext) validate(methodRequired bool) *apis.FieldError {
	var errs *apis.FieldError
	switch {
	case w.Endpoint == "":
		errs = errs.Also(apis.ErrMissingField("endpoint"))
	case !strings.HasPrefix(w.Endpoint, "/"):
		errs = errs.Also(apis.ErrInvalidValue(w.Endpoint, "endpoint", "must start with /"))
	}
	errs = errs.Also(validatePort(w.Port, "port"))
	switch {
	case w.Method == "" && methodRequired:
		errs = errs.Also(apis.ErrMissingField("method"))
	case w.Method != "":
		errs = errs.Also(oneOf(w.Method, "method", webhookMethods))
	}
	// url is what a source registers with its provider; like Argo, only a
	// source that registers it checks it (see validateRegisteredURL).
	if (w.ServerCertSecret == nil) != (w.ServerKeySecret == nil) {
		errs = errs.Also(apis.ErrGeneric("serverCertSecret and serverKeySecret must be set together",
			"serverCertSecret", "serverKeySecret"))
	}
	errs = errs.Also(
		validateSecretRef(w.ServerCertSecret, "serverCertSecret"),
		validateSecretRef(w.ServerKeySecret, "serverKeySecret"),
		validateSecretRef(w.AuthSecret, "authSecret"),
		validateBasicAuth(w.BasicAuth, "basicAuth"),
	)
	if w.MaxPayloadSize != nil && *w.MaxPayloadSize <= 0 {
		errs = errs.Also(apis.ErrInvalidValue(*w.MaxPayloadSize, "maxPayloadSize", "must be positive"))
	}
	return errs
}

// validateRegisteredURL checks the webhook url a source registers with its
// provider, which must be absolute.
func validateRegisteredURL(w *WebhookContext) *apis.FieldError {
	if w == nil || w.URL == "" {
		return nil
	}
	if u, err := url.Parse(w.URL); err != nil || u.Scheme == "" || u.Host == "" {
		return apis.ErrInvalidValue(w.URL, "url", "must be an absolute URL").ViaField("webhook")
	}
	return nil
}

// requireWebhook checks the mandatory `webhook` block of a push source.
func requireWebhook(w *WebhookContext) *apis.FieldError {
	if w == nil {
		return apis.ErrMissingField("webhook")
	}
	return w.validate(false).ViaField("webhook")
}

// validate checks one entry of its type key; paths are relative to the entry.
func (w *WebhookEventSource) validate() *apis.FieldError {
	return w.WebhookContext.validate(true).Also(validateFilter(w.Filter))
}

// validate checks one entry of its type key; paths are relative to the entry.
func (g *GithubEventSource) validate() *apis.FieldError {
	errs := requireWebhook(g.Webhook).Also(validateFilter(g.Filter),
		validateSecretRef(g.APIToken, "apiToken"), validateSecretRef(g.WebhookSecret, "webhookSecret"))
	if g.APIToken != nil || g.GithubApp != nil {
		errs = errs.Also(validateRegisteredURL(g.Webhook))
	}
	repos := len(g.Repositories) > 0 || (g.DeprecatedOwner != "" && g.DeprecatedRepository != "")
	switch {
	case !repos && len(g.Organizations) == 0:
		errs = errs.Also(apis.ErrMissingOneOf("repositories", "organizations"))
	case repos && len(g.Organizations) > 0:
		errs = errs.Also(apis.ErrMultipleOneOf("repositories", "organizations"))
	}
	for i, r := range g.Repositories {
		errs = errs.Also(requireString(r.Owner, "owner").Also(requireList(len(r.Names), "names")).
			ViaFieldIndex("repositories", i))
	}
	if (g.APIToken != nil || g.GithubApp != nil) && g.Webhook != nil && g.Webhook.URL != "" && len(g.Events) == 0 {
		errs = errs.Also(missingBecause("events", "required to create the GitHub hook"))
	}
	if g.ContentType != "" {
		errs = errs.Also(oneOf(g.ContentType, "contentType", []string{"json", "form"}))
	}
	if a := g.GithubApp; a != nil {
		errs = errs.Also(requireSecretRef(a.PrivateKey, "privateKey").ViaField("githubApp"))
	}
	return errs
}

// validate checks one entry of its type key; paths are relative to the entry.
func (g *GitlabEventSource) validate() *apis.FieldError {
	return requireWebhook(g.Webhook).Also(validateFilter(g.Filter),
		requireList(len(g.Events), "events"),
		validateSecretRef(g.AccessToken, "accessToken"),
		validateSecretRef(g.SecretToken, "secretToken"))
}

// validate checks one entry of its type key; paths are relative to the entry.
func (b *BitbucketEventSource) validate() *apis.FieldError {
	errs := requireWebhook(b.Webhook).Also(validateFilter(b.Filter), requireList(len(b.Events), "events"))
	if b.Auth == nil {
		errs = errs.Also(apis.ErrMissingField("auth"))
	} else {
		aerrs := exactlyOne(apis.CurrentField, map[string]bool{"basic": b.Auth.Basic != nil, "oauthToken": b.Auth.OAuthToken != nil})
		if bb := b.Auth.Basic; bb != nil {
			aerrs = aerrs.Also(requireSecretRef(bb.Username, "basic.username"), requireSecretRef(bb.Password, "basic.password"))
		}
		errs = errs.Also(aerrs.Also(validateSecretRef(b.Auth.OAuthToken, "oauthToken")).ViaField("auth"))
	}
	if len(b.Repositories) == 0 && (b.DeprecatedOwner == "" || b.DeprecatedRepositorySlug == "") {
		errs = errs.Also(apis.ErrMissingField("repositories"))
	}
	for i, r := range b.Repositories {
		errs = errs.Also(requireString(r.Owner, "owner").Also(requireString(r.RepositorySlug, "repositorySlug")).
			ViaFieldIndex("repositories", i))
	}
	return errs
}

// validate checks one entry of its type key; paths are relative to the entry.
func (b *BitbucketServerEventSource) validate() *apis.FieldError {
	errs := requireWebhook(b.Webhook).Also(validateFilter(b.Filter),
		requireString(b.BitbucketServerBaseURL, "bitbucketserverBaseURL"),
		validateSecretRef(b.AccessToken, "accessToken"), validateSecretRef(b.WebhookSecret, "webhookSecret"),
		validateTLS(b.TLS, "tls"), validateDuration(b.CheckInterval, "checkInterval"))
	if len(b.Repositories) == 0 && len(b.Projects) == 0 && (b.DeprecatedProjectKey == "" || b.DeprecatedRepositorySlug == "") {
		errs = errs.Also(expectedAnyOf("repositories", "projects"))
	}
	for i, r := range b.Repositories {
		errs = errs.Also(requireString(r.ProjectKey, "projectKey").Also(requireString(r.RepositorySlug, "repositorySlug")).
			ViaFieldIndex("repositories", i))
	}
	return errs
}

// validate checks one entry of its type key; paths are relative to the entry.
func (g *GerritEventSource) validate() *apis.FieldError {
	return requireWebhook(g.Webhook).Also(validateFilter(g.Filter),
		requireString(g.HookName, "hookName"),
		requireList(len(g.Events), "events"),
		requireList(len(g.Projects), "projects"),
		validateBasicAuth(g.Auth, "auth"))
}

// validate checks one entry of its type key; paths are relative to the entry.
func (sl *SlackEventSource) validate() *apis.FieldError {
	return requireWebhook(sl.Webhook).Also(validateFilter(sl.Filter),
		requireSecretRef(sl.Token, "token"),
		validateSecretRef(sl.SigningSecret, "signingSecret"))
}

// validate checks one entry of its type key; paths are relative to the entry.
func (sn *SNSEventSource) validate() *apis.FieldError {
	return requireWebhook(sn.Webhook).Also(validateFilter(sn.Filter),
		requireString(sn.TopicArn, "topicArn"),
		requireString(sn.Region, "region"),
		validateSecretRef(sn.AccessKey, "accessKey"),
		validateSecretRef(sn.SecretKey, "secretKey"))
}

// validate checks one entry of its type key; paths are relative to the entry.
func (sg *StorageGridEventSource) validate() *apis.FieldError {
	return requireWebhook(sg.Webhook).Also(validateSecretRef(sg.AuthToken, "authToken"))
}

// validate checks one entry of its type key; paths are relative to the entry.
func (st *StripeEventSource) validate() *apis.FieldError {
	errs := requireWebhook(st.Webhook).Also(validateSecretRef(st.APIKey, "apiKey"))
	if st.CreateWebhook && st.APIKey == nil {
		errs = errs.Also(missingBecause("apiKey", "required when createWebhook is true"))
	}
	return errs
}
