package v1alpha1

import corev1 "k8s.io/api/core/v1"

// GithubEventSource receives GitHub webhooks and can register the hook through the API.
type GithubEventSource struct {
	// ID is deprecated and unused.
	ID                   int64                     `json:"id"`
	Webhook              *WebhookContext           `json:"webhook,omitempty"`
	DeprecatedOwner      string                    `json:"owner"`
	DeprecatedRepository string                    `json:"repository"`
	Events               []string                  `json:"events"`
	APIToken             *corev1.SecretKeySelector `json:"apiToken,omitempty"`
	WebhookSecret        *corev1.SecretKeySelector `json:"webhookSecret,omitempty"`
	Insecure             bool                      `json:"insecure,omitempty"`
	Active               bool                      `json:"active,omitempty"`
	ContentType          string                    `json:"contentType,omitempty"`
	GithubBaseURL        string                    `json:"githubBaseURL,omitempty"`
	GithubUploadURL      string                    `json:"githubUploadURL,omitempty"`
	DeleteHookOnFinish   bool                      `json:"deleteHookOnFinish,omitempty"`
	Metadata             map[string]string         `json:"metadata,omitempty"`
	Repositories         []OwnedRepositories       `json:"repositories,omitempty"`
	Organizations        []string                  `json:"organizations,omitempty"`
	GithubApp            *GithubAppCreds           `json:"githubApp,omitempty"`
	Filter               *EventSourceFilter        `json:"filter,omitempty"`
}

// OwnedRepositories lists repositories of one owner.
type OwnedRepositories struct {
	Owner string   `json:"owner,omitempty"`
	Names []string `json:"names,omitempty"`
}

// GithubAppCreds are the credentials of a GitHub App.
type GithubAppCreds struct {
	PrivateKey     *corev1.SecretKeySelector `json:"privateKey"`
	AppID          int64                     `json:"appID"`
	InstallationID int64                     `json:"installationID"`
}

// GitlabEventSource receives GitLab webhooks and can register the hook through the API.
type GitlabEventSource struct {
	Webhook               *WebhookContext           `json:"webhook,omitempty"`
	DeprecatedProjectID   string                    `json:"projectID,omitempty"`
	Events                []string                  `json:"events"`
	AccessToken           *corev1.SecretKeySelector `json:"accessToken,omitempty"`
	EnableSSLVerification bool                      `json:"enableSSLVerification,omitempty"`
	GitlabBaseURL         string                    `json:"gitlabBaseURL"`
	DeleteHookOnFinish    bool                      `json:"deleteHookOnFinish,omitempty"`
	Metadata              map[string]string         `json:"metadata,omitempty"`
	Projects              []string                  `json:"projects,omitempty"`
	SecretToken           *corev1.SecretKeySelector `json:"secretToken,omitempty"`
	Filter                *EventSourceFilter        `json:"filter,omitempty"`
	Groups                []string                  `json:"groups,omitempty"`
}

// BitbucketEventSource receives Bitbucket Cloud webhooks.
type BitbucketEventSource struct {
	DeleteHookOnFinish       bool                  `json:"deleteHookOnFinish,omitempty"`
	Metadata                 map[string]string     `json:"metadata,omitempty"`
	Webhook                  *WebhookContext       `json:"webhook"`
	Auth                     *BitbucketAuth        `json:"auth"`
	Events                   []string              `json:"events"`
	DeprecatedOwner          string                `json:"owner,omitempty"`
	DeprecatedProjectKey     string                `json:"projectKey,omitempty"`
	DeprecatedRepositorySlug string                `json:"repositorySlug,omitempty"`
	Repositories             []BitbucketRepository `json:"repositories,omitempty"`
	Filter                   *EventSourceFilter    `json:"filter,omitempty"`
}

// BitbucketRepository names a Bitbucket Cloud repository.
type BitbucketRepository struct {
	Owner          string `json:"owner"`
	RepositorySlug string `json:"repositorySlug"`
}

// BitbucketAuth holds Bitbucket credentials: basic or OAuth token.
type BitbucketAuth struct {
	Basic      *BitbucketBasicAuth       `json:"basic,omitempty"`
	OAuthToken *corev1.SecretKeySelector `json:"oauthToken,omitempty"`
}

// BitbucketBasicAuth refers to the secrets that hold a Bitbucket user name and password.
type BitbucketBasicAuth struct {
	Username *corev1.SecretKeySelector `json:"username"`
	Password *corev1.SecretKeySelector `json:"password"`
}

// BitbucketServerEventSource receives Bitbucket Server webhooks.
type BitbucketServerEventSource struct {
	Webhook                       *WebhookContext             `json:"webhook,omitempty"`
	DeprecatedProjectKey          string                      `json:"projectKey,omitempty"`
	DeprecatedRepositorySlug      string                      `json:"repositorySlug,omitempty"`
	Projects                      []string                    `json:"projects,omitempty"`
	Repositories                  []BitbucketServerRepository `json:"repositories,omitempty"`
	Events                        []string                    `json:"events"`
	SkipBranchRefsChangedOnOpenPR bool                        `json:"skipBranchRefsChangedOnOpenPR,omitempty"`
	OneEventPerChange             bool                        `json:"oneEventPerChange,omitempty"`
	AccessToken                   *corev1.SecretKeySelector   `json:"accessToken,omitempty"`
	WebhookSecret                 *corev1.SecretKeySelector   `json:"webhookSecret,omitempty"`
	BitbucketServerBaseURL        string                      `json:"bitbucketserverBaseURL"`
	DeleteHookOnFinish            bool                        `json:"deleteHookOnFinish,omitempty"`
	Metadata                      map[string]string           `json:"metadata,omitempty"`
	Filter                        *EventSourceFilter          `json:"filter,omitempty"`
	TLS                           *TLSConfig                  `json:"tls,omitempty"`
	CheckInterval                 string                      `json:"checkInterval"`
}

// BitbucketServerRepository names a Bitbucket Server repository.
type BitbucketServerRepository struct {
	ProjectKey     string `json:"projectKey"`
	RepositorySlug string `json:"repositorySlug"`
}

// GerritEventSource receives Gerrit webhooks.
type GerritEventSource struct {
	Webhook            *WebhookContext    `json:"webhook,omitempty"`
	HookName           string             `json:"hookName"`
	Events             []string           `json:"events"`
	Auth               *BasicAuth         `json:"auth,omitempty"`
	GerritBaseURL      string             `json:"gerritBaseURL"`
	DeleteHookOnFinish bool               `json:"deleteHookOnFinish,omitempty"`
	Metadata           map[string]string  `json:"metadata,omitempty"`
	Projects           []string           `json:"projects,omitempty"`
	SslVerify          bool               `json:"sslVerify,omitempty"`
	Filter             *EventSourceFilter `json:"filter,omitempty"`
	MaxTries           int64              `json:"maxTries"`
}
