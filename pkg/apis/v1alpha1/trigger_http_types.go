package v1alpha1

import corev1 "k8s.io/api/core/v1"

// HTTPTrigger sends an HTTP request built from event values.
type HTTPTrigger struct {
	// URL is the request URL.
	URL string `json:"url"`
	// Payload builds the request body.
	Payload []TriggerParameter `json:"payload"`
	// TLS configures the client.
	TLS *TLSConfig `json:"tls,omitempty"`
	// Method is the HTTP method; POST when empty.
	Method string `json:"method,omitempty"`
	// Parameters are applied to this trigger's fields.
	Parameters []TriggerParameter `json:"parameters,omitempty"`
	// Timeout is the request timeout in seconds; 60 when zero.
	Timeout int64 `json:"timeout,omitempty"`
	// BasicAuth adds basic authentication.
	BasicAuth *BasicAuth `json:"basicAuth,omitempty"`
	// Headers are added to the request.
	Headers map[string]string `json:"headers,omitempty"`
	// SecureHeaders are headers whose values come from secrets or config maps.
	SecureHeaders []*SecureHeader `json:"secureHeaders,omitempty"`
	// DynamicHeaders are headers whose values come from events (dest = header name).
	DynamicHeaders []TriggerParameter `json:"dynamicHeaders,omitempty"`
	// Host overrides the Host header.
	Host string `json:"host,omitempty"`
}

// AWSLambdaTrigger invokes an AWS Lambda function.
type AWSLambdaTrigger struct {
	// FunctionName is the function to invoke.
	FunctionName string `json:"functionName"`
	// AccessKey refers to the secret that holds the AWS access key.
	AccessKey *corev1.SecretKeySelector `json:"accessKey,omitempty"`
	// SecretKey refers to the secret that holds the AWS secret key.
	SecretKey *corev1.SecretKeySelector `json:"secretKey,omitempty"`
	// Region is the AWS region.
	Region string `json:"region"`
	// Payload builds the invocation payload.
	Payload []TriggerParameter `json:"payload"`
	// Parameters are applied to this trigger's fields.
	Parameters []TriggerParameter `json:"parameters,omitempty"`
	// InvocationType is RequestResponse (default), Event or DryRun.
	InvocationType *string `json:"invocationType,omitempty"`
	// RoleARN is a role to assume.
	RoleARN string `json:"roleARN,omitempty"`
}

// OpenWhiskTrigger invokes an OpenWhisk action.
type OpenWhiskTrigger struct {
	// Host is the OpenWhisk URL.
	Host string `json:"host"`
	// Version is the API version; v1 when empty.
	Version string `json:"version,omitempty"`
	// Namespace is the action namespace; "_" when empty.
	Namespace string `json:"namespace,omitempty"`
	// AuthToken refers to the secret that holds the token.
	AuthToken *corev1.SecretKeySelector `json:"authToken,omitempty"`
	// ActionName is the action to invoke.
	ActionName string `json:"actionName"`
	// Payload builds the invocation payload.
	Payload []TriggerParameter `json:"payload"`
	// Parameters are applied to this trigger's fields.
	Parameters []TriggerParameter `json:"parameters,omitempty"`
}

// CustomTrigger calls a user's gRPC trigger server.
type CustomTrigger struct {
	// ServerURL is the gRPC server address.
	ServerURL string `json:"serverURL"`
	// Secure turns TLS on.
	Secure bool `json:"secure"`
	// CertSecret refers to the secret that holds the server certificate.
	CertSecret *corev1.SecretKeySelector `json:"certSecret,omitempty"`
	// ServerNameOverride is the TLS server name.
	ServerNameOverride string `json:"serverNameOverride,omitempty"`
	// Spec is the resource the server interprets.
	Spec map[string]string `json:"spec"`
	// Parameters are applied to this trigger's fields.
	Parameters []TriggerParameter `json:"parameters,omitempty"`
	// Payload builds the request payload.
	Payload []TriggerParameter `json:"payload"`
}
