// Package awslambda implements the Argo Events `awsLambda` trigger: one
// Lambda Invoke call per firing, whose payload is the one the engine built
// from the `payload` list.
//
// Region, credentials and role are read by package awsconn: the
// `accessKey`/`secretKey` secret references when both are set, else the AWS
// SDK's default chain; with `roleARN` those credentials assume the role
// through STS. `AWS_ENDPOINT_URL_LAMBDA` (or `AWS_ENDPOINT_URL`) and
// `AWS_ENDPOINT_URL_STS` point the trigger at LocalStack or a test server.
//
// The SDK does not retry: the sensor's `retryStrategy`, `dlqTrigger` and the
// broker's redelivery are the only retries, so a failed invocation is never
// repeated behind the user's back.
package awslambda

import (
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/conn/awsconn"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/triggers"
)

const (
	// DefaultTimeout bounds one invocation: a RequestResponse call waits for
	// the function, and a sensor request lives no longer than Knative's
	// default revision timeout of five minutes.
	DefaultTimeout = 5 * time.Minute
	// MaxClients bounds the clients a trigger keeps for region, credential
	// and role combinations that `parameters` choose at firing time.
	MaxClients = 16
	// SessionName is the role session name used with `roleARN`.
	SessionName = "flint-awslambda"

	// setupTimeout bounds the secret lookups done while building a client.
	setupTimeout = 30 * time.Second
	// maxErrorDetail is how much of a function's error document an error quotes.
	maxErrorDetail = 256
)

// ErrFunction is wrapped by the error of a firing whose function ran and
// failed (Lambda's `X-Amz-Function-Error`).
var ErrFunction = errors.New("function error")

// invocationTypes are the values `invocationType` accepts.
var invocationTypes = []string{
	string(types.InvocationTypeRequestResponse), string(types.InvocationTypeEvent), string(types.InvocationTypeDryRun),
}

func init() { triggers.Register(v1alpha1.TriggerTypeAWSLambda, New, facts()...) }

// Trigger invokes a Lambda function per firing. The client for the spec as
// written is built at New; parameters that change the region, the secret
// references or the role get their own clients, built on first use and
// kept in a bounded least-recently-used cache.
type Trigger struct {
	logger    *zap.Logger
	secrets   secret.Resolver
	http      *http.Client
	ownsConns bool

	baseKey clientKey
	base    *lambda.Client

	mu      sync.Mutex // guards lru and clients
	lru     *list.List // of clientKey, most recently used first
	clients map[clientKey]cached
}

// clientKey is what a client depends on in a spec.
type clientKey struct {
	region, roleARN      string
	accessKey, secretKey secretRef
}

type secretRef struct{ name, key string }

type cached struct {
	client *lambda.Client
	elem   *list.Element
}

func keyOf(spec *v1alpha1.AWSLambdaTrigger) clientKey {
	ref := func(s *corev1.SecretKeySelector) secretRef {
		if s == nil {
			return secretRef{}
		}
		return secretRef{s.Name, s.Key}
	}
	return clientKey{region: spec.Region, roleARN: spec.RoleARN, accessKey: ref(spec.AccessKey), secretKey: ref(spec.SecretKey)}
}

// New checks the spec and builds its Lambda client: the credential secrets
// are resolved here, no AWS call is made. Problems are relative to the spec
// (`functionName`, `accessKey`, …).
func New(spec *v1alpha1.AWSLambdaTrigger, deps triggers.Deps) (triggers.Trigger[v1alpha1.AWSLambdaTrigger], error) {
	if err := check(spec); err != nil {
		return nil, err
	}
	logger := deps.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	t := &Trigger{
		logger:  logger.With(zap.String("triggerType", v1alpha1.TriggerTypeAWSLambda)),
		secrets: deps.Secrets,
		lru:     list.New(),
		clients: map[clientKey]cached{},
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	cfg, err := awsconn.LoadBase(ctx, awsSpec(spec), deps.Secrets)
	if err != nil {
		var fe *apis.FieldError
		if errors.As(err, &fe) {
			return nil, fe
		}
		return nil, fmt.Errorf("building the lambda client: %w", err)
	}
	// Every client of the trigger shares one transport. The SDK's own
	// client carries the TLS settings its configuration asked for
	// (AWS_CA_BUNDLE, ca_bundle); the trigger's transport takes them over.
	if deps.Transport != nil {
		t.http = &http.Client{Transport: deps.Transport}
	} else {
		tr := triggers.NewTransport(nil)
		if bc, ok := cfg.HTTPClient.(*awshttp.BuildableClient); ok {
			tr.TLSClientConfig = bc.GetTransport().TLSClientConfig
		}
		t.http = &http.Client{Transport: tr}
		t.ownsConns = true
	}
	client := t.client(cfg, spec)
	t.baseKey, t.base = keyOf(spec), client
	return t, nil
}

// check reports what the trigger cannot run with, relative to the spec.
func check(spec *v1alpha1.AWSLambdaTrigger) *apis.FieldError {
	var errs *apis.FieldError
	if spec.FunctionName == "" {
		errs = errs.Also(apis.ErrMissingField("functionName"))
	}
	errs = errs.Also(awsSpec(spec).Check())
	if it := spec.InvocationType; it != nil && !slices.Contains(invocationTypes, *it) {
		errs = errs.Also(apis.ErrInvalidValue(*it, "invocationType", "must be one of RequestResponse, Event, DryRun"))
	}
	return errs
}

// awsSpec is the AWS connection of the spec.
func awsSpec(spec *v1alpha1.AWSLambdaTrigger) awsconn.Spec {
	return awsconn.Spec{Region: spec.Region, AccessKey: spec.AccessKey, SecretKey: spec.SecretKey,
		RoleARN: spec.RoleARN, SessionName: SessionName}
}

// client makes a Lambda client from a base configuration on the trigger's
// shared transport, which the role's STS calls use too.
func (t *Trigger) client(cfg aws.Config, spec *v1alpha1.AWSLambdaTrigger) *lambda.Client {
	return lambda.NewFromConfig(awsconn.Finish(cfg, awsSpec(spec), t.http))
}

// clientFor returns the client for a resolved spec: the one built at New
// when parameters left region, credentials and role alone, else a cached
// or new one.
func (t *Trigger) clientFor(ctx context.Context, spec *v1alpha1.AWSLambdaTrigger) (*lambda.Client, error) {
	k := keyOf(spec)
	if k == t.baseKey {
		return t.base, nil
	}
	t.mu.Lock()
	if c, ok := t.clients[k]; ok {
		t.lru.MoveToFront(c.elem)
		t.mu.Unlock()
		return c.client, nil
	}
	t.mu.Unlock()

	cfg, err := awsconn.LoadBase(ctx, awsSpec(spec), t.secrets)
	if err != nil {
		var fe *apis.FieldError
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("awsLambda: %w", fe.ViaField("awsLambda"))
		}
		return nil, fmt.Errorf("awsLambda: %w", err)
	}
	client := t.client(cfg, spec)

	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.clients[k]; ok { // built concurrently by another firing
		t.lru.MoveToFront(c.elem)
		return c.client, nil
	}
	t.clients[k] = cached{client: client, elem: t.lru.PushFront(k)}
	if t.lru.Len() > MaxClients {
		oldest := t.lru.Back()
		t.lru.Remove(oldest)
		delete(t.clients, oldest.Value.(clientKey))
	}
	return client, nil
}

// Close releases the idle connections of the trigger's own transport.
func (t *Trigger) Close() error {
	if t.ownsConns {
		t.http.CloseIdleConnections()
	}
	return nil
}

// Fire invokes the function the resolved spec names with the firing's
// payload. The result carries Lambda's status code and the function's
// response payload; a call Lambda refused (any error status) and a function
// that ran and failed (wrapping ErrFunction) are errors.
func (t *Trigger) Fire(ctx context.Context, spec *v1alpha1.AWSLambdaTrigger, in triggers.Firing) (triggers.Result, error) {
	if err := check(spec); err != nil {
		return triggers.Result{}, fmt.Errorf("awsLambda: %w", err.ViaField("awsLambda"))
	}
	client, err := t.clientFor(ctx, spec)
	if err != nil {
		return triggers.Result{}, err
	}
	input := &lambda.InvokeInput{FunctionName: aws.String(spec.FunctionName), Payload: in.Payload}
	invocationType := string(types.InvocationTypeRequestResponse)
	if spec.InvocationType != nil {
		invocationType = *spec.InvocationType
		input.InvocationType = types.InvocationType(invocationType)
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()

	start := time.Now()
	out, err := client.Invoke(ctx, input)
	if err != nil {
		var status int
		if re := (*awshttp.ResponseError)(nil); errors.As(err, &re) {
			status = re.HTTPStatusCode()
		}
		return triggers.Result{StatusCode: status}, fmt.Errorf("awsLambda: invoking function %s: %w", spec.FunctionName, err)
	}
	res := triggers.Result{StatusCode: int(out.StatusCode), Body: out.Payload}
	if ce := t.logger.Check(zap.DebugLevel, "awsLambda trigger invoked"); ce != nil {
		ce.Write(zap.String("sensor", in.Sensor), zap.String("trigger", in.Trigger),
			zap.String("function", spec.FunctionName), zap.String("region", spec.Region),
			zap.String("invocationType", invocationType), zap.Int("status", res.StatusCode),
			zap.String("executedVersion", aws.ToString(out.ExecutedVersion)),
			zap.Stringp("functionError", out.FunctionError), zap.Duration("took", time.Since(start)))
	}
	if out.FunctionError != nil {
		return res, fmt.Errorf("awsLambda: function %s: %w (%s)%s", spec.FunctionName, ErrFunction,
			*out.FunctionError, errorDetail(out.Payload))
	}
	return res, nil
}

// errorDetail quotes the type and message of a function's error document
// (`{"errorType": …, "errorMessage": …}`), bounded, or nothing.
func errorDetail(payload []byte) string {
	var doc struct {
		Type    string `json:"errorType"`
		Message string `json:"errorMessage"`
	}
	if json.Unmarshal(payload, &doc) != nil || doc.Type == "" && doc.Message == "" {
		return ""
	}
	detail := doc.Type
	if doc.Message != "" {
		if detail != "" {
			detail += ": "
		}
		detail += doc.Message
	}
	if len(detail) > maxErrorDetail {
		detail = detail[:maxErrorDetail] + "…"
	}
	return ": " + detail
}
