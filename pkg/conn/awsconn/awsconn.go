// Package awsconn turns the AWS settings of Argo's AWS types (`region`,
// `accessKey`, `secretKey`, `sessionToken`, `roleARN`, `endpoint`) into the
// aws.Config a service client is built from. It is apart from package conn
// so that plugins not on AWS do not link the AWS SDK.
//
// Credentials come from the secret references when `accessKey` and
// `secretKey` are set, else from the SDK's default chain (environment,
// shared files, web identity, container and instance roles); with `roleARN`
// those credentials assume the role through STS. The SDK's standard
// settings apply too, so `AWS_ENDPOINT_URL_<SERVICE>` (or `AWS_ENDPOINT_URL`)
// points a client at LocalStack or a test server, and `AWS_CA_BUNDLE` adds a CA.
//
// The SDK does not retry: a source's loop and a sensor's `retryStrategy`
// are the only retries, so no call is repeated behind the user's back.
package awsconn

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	corev1 "k8s.io/api/core/v1"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/conn"
	"github.com/flintevents/flint/pkg/secret"
)

// DefaultSessionName is the role session name when Spec.SessionName is empty.
const DefaultSessionName = "flint"

// Spec is the AWS part of an Argo spec; a plugin fills it from its type's fields.
type Spec struct {
	// Region is `region`; required.
	Region string
	// AccessKey and SecretKey are `accessKey` and `secretKey`, set together.
	AccessKey, SecretKey *corev1.SecretKeySelector
	// SessionToken is `sessionToken` (sqs), used with the two keys.
	SessionToken *corev1.SecretKeySelector
	// RoleARN is `roleARN`, a role the credentials assume.
	RoleARN string
	// SessionName names the role session; DefaultSessionName when empty.
	SessionName string
	// Endpoint is `endpoint`, the service's URL instead of AWS's. STS,
	// used for the role, keeps its own.
	Endpoint string
}

// Check reports what a client cannot be built with, relative to the spec
// (`region`, `accessKey`, …).
func (s Spec) Check() *apis.FieldError {
	var errs *apis.FieldError
	if s.Region == "" {
		errs = errs.Also(apis.ErrMissingField("region"))
	}
	together := func(field string) *apis.FieldError {
		return &apis.FieldError{Message: "missing field(s)", Paths: []string{field},
			Details: "accessKey and secretKey are set together"}
	}
	switch {
	case s.AccessKey != nil && s.SecretKey == nil:
		errs = errs.Also(together("secretKey"))
	case s.AccessKey == nil && s.SecretKey != nil:
		errs = errs.Also(together("accessKey"))
	}
	if s.SessionToken != nil && (s.AccessKey == nil || s.SecretKey == nil) {
		errs = errs.Also(apis.ErrGeneric("sessionToken is used with accessKey and secretKey", "sessionToken"))
	}
	return errs
}

// Load returns the configuration for spec: LoadBase, then Finish with the
// SDK's own HTTP client. No AWS call is made. Problems with the spec are an
// *apis.FieldError relative to it.
func Load(ctx context.Context, spec Spec, secrets secret.Resolver) (aws.Config, error) {
	cfg, err := LoadBase(ctx, spec, secrets)
	if err != nil {
		return aws.Config{}, err
	}
	return Finish(cfg, spec, nil), nil
}

// LoadBase checks spec and loads its region and credentials, without the
// role and the endpoint; its HTTP client is the SDK's own, which carries the
// TLS settings of `AWS_CA_BUNDLE`. A caller that shares one transport
// between clients takes those settings from it, then calls Finish. A secret
// that cannot be read is an *apis.FieldError at its field.
func LoadBase(ctx context.Context, spec Spec, secrets secret.Resolver) (aws.Config, error) {
	if err := spec.Check(); err != nil {
		return aws.Config{}, err
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(spec.Region),
		config.WithHTTPClient(awshttp.NewBuildableClient()),
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
		config.WithAppID("flint"),
	}
	if spec.AccessKey != nil && spec.SecretKey != nil {
		keyID, err := conn.SecretValue(ctx, secrets, spec.AccessKey, "accessKey")
		if err != nil {
			return aws.Config{}, err
		}
		secretKey, err := conn.SecretValue(ctx, secrets, spec.SecretKey, "secretKey")
		if err != nil {
			return aws.Config{}, err
		}
		var token string
		if spec.SessionToken != nil {
			if token, err = conn.SecretValue(ctx, secrets, spec.SessionToken, "sessionToken"); err != nil {
				return aws.Config{}, err
			}
		}
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(keyID, secretKey, token)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	return cfg, nil
}

// Finish completes a LoadBase configuration: httpClient, when not nil,
// carries every call, STS's included; with `roleARN` the credentials assume
// the role (on first use, through STS, cached until they expire); with
// `endpoint` the service client built from the result calls it.
func Finish(cfg aws.Config, spec Spec, httpClient aws.HTTPClient) aws.Config {
	if httpClient != nil {
		cfg.HTTPClient = httpClient
	}
	if spec.RoleARN != "" {
		name := spec.SessionName
		if name == "" {
			name = DefaultSessionName
		}
		provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), spec.RoleARN,
			func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = name })
		cfg.Credentials = aws.NewCredentialsCache(provider)
	}
	if spec.Endpoint != "" {
		cfg.BaseEndpoint = aws.String(spec.Endpoint)
	}
	return cfg
}
