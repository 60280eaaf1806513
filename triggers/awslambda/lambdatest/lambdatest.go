// Package lambdatest is a stand-in for AWS Lambda in tests: an HTTP server
// that speaks the Invoke API (`POST /2015-03-31/functions/{name}/invocations`)
// as the AWS SDK calls it, records every invocation, answers as each function
// is scripted to, and, for the `roleARN` path, answers STS AssumeRole.
//
// Point the SDK at it with `AWS_ENDPOINT_URL_LAMBDA=<URL>` (and
// `AWS_ENDPOINT_URL_STS=<URL>` for assume-role), or with a client's
// BaseEndpoint.
package lambdatest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	// MaxPayload is the largest request body the server reads (Lambda's own
	// synchronous invocation limit); a larger one is answered 413.
	MaxPayload = 6 << 20

	invokePrefix = "/2015-03-31/functions/"
	amzDate      = "20060102T150405Z"
)

// Invocation is what the server saw of one Invoke call.
type Invocation struct {
	// Function is the function name (or ARN) from the request path.
	Function string
	// Qualifier is the version or alias from the `Qualifier` query, if any.
	Qualifier string
	// InvocationType is the `X-Amz-Invocation-Type` header; empty when the
	// client sent none (Lambda then runs RequestResponse).
	InvocationType string
	// Payload is the request body.
	Payload []byte
	// AccessKeyID, Region and Service come from the SigV4 `Authorization`
	// header's credential scope; empty when the header is missing.
	AccessKeyID, Region, Service string
	// SessionToken is the `X-Amz-Security-Token` header (assumed-role credentials).
	SessionToken string
	// Authorization is the raw `Authorization` header.
	Authorization string
}

// Answer scripts how a function answers an invocation.
type Answer struct {
	// Status is the HTTP status; when zero it is 200 for RequestResponse,
	// 202 for Event and 204 for DryRun, as Lambda answers.
	Status int
	// Payload is the response body. For a status of 400 or more without a
	// payload, the server writes a Lambda-style error document.
	Payload []byte
	// FunctionError, when set, is sent as `X-Amz-Function-Error` (e.g.
	// "Unhandled"): the function ran and failed.
	FunctionError string
	// ErrorType is the `X-Amzn-ErrorType` of an error status
	// ("ServiceException" when empty).
	ErrorType string
	// Block holds the answer until the caller gives up or the server closes.
	Block bool
}

// AssumedRole is what the STS responder saw of one AssumeRole call.
type AssumedRole struct {
	// RoleARN and SessionName are the call's `RoleArn` and `RoleSessionName`.
	RoleARN, SessionName string
	// AccessKeyID is the key id that signed the call.
	AccessKeyID string
}

// Server is a running Lambda stand-in; it is safe for concurrent use.
type Server struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:41234.
	URL string

	srv    *httptest.Server
	closed chan struct{}
	once   sync.Once

	mu          sync.Mutex
	answers     map[string]Answer
	keys        map[string]string
	invocations []Invocation
	assumed     []AssumedRole
}

// New starts a server on a random loopback port; Close stops it. Every
// function answers as Script set it; an unscripted one succeeds, echoing
// its payload when invoked RequestResponse, with no body for Event (202)
// and DryRun (204), as Lambda does.
func New() *Server {
	s := &Server{answers: map[string]Answer{}, keys: map[string]string{}, closed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+invokePrefix+"{name}/invocations", s.invoke)
	mux.HandleFunc("POST /{$}", s.sts)
	s.srv = httptest.NewUnstartedServer(mux)
	s.srv.Config.ReadHeaderTimeout = 10 * time.Second
	s.srv.Config.ReadTimeout = time.Minute
	s.srv.Config.IdleTimeout = time.Minute
	s.srv.Start()
	s.URL = s.srv.URL
	return s
}

// Start starts a server that closes when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := New()
	t.Cleanup(s.Close)
	return s
}

// Close releases blocked answers and stops the server.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closed) })
	s.srv.Close()
}

// Script sets how function answers from now on.
func (s *Server) Script(function string, a Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[function] = a
}

// Credentials makes the server check the SigV4 signature of every request
// signed with accessKeyID against secretKey; a mismatch is answered 403
// (InvalidSignatureException). Requests signed with other key ids are not checked.
func (s *Server) Credentials(accessKeyID, secretKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[accessKeyID] = secretKey
}

// Invocations returns every invocation so far, oldest first.
func (s *Server) Invocations() []Invocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Invocation(nil), s.invocations...)
}

// InvocationsOf returns the invocations of one function, oldest first.
func (s *Server) InvocationsOf(function string) []Invocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Invocation
	for _, in := range s.invocations {
		if in.Function == function {
			out = append(out, in)
		}
	}
	return out
}

// AssumedRoles returns every AssumeRole call so far, oldest first.
func (s *Server) AssumedRoles() []AssumedRole {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AssumedRole(nil), s.assumed...)
}

// AssumedKeyID is the access key id the STS responder hands out for role.
func AssumedKeyID(roleARN string) string {
	sum := sha256.Sum256([]byte(roleARN))
	return "ASIA" + strings.ToUpper(hex.EncodeToString(sum[:8]))
}

// assumedSecret is the secret key that goes with AssumedKeyID(roleARN).
func assumedSecret(roleARN string) string { return "secret-of-" + roleARN }

func (s *Server) invoke(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	in := Invocation{
		Function:       r.PathValue("name"),
		Qualifier:      r.URL.Query().Get("Qualifier"),
		InvocationType: r.Header.Get("X-Amz-Invocation-Type"),
		Payload:        body,
		SessionToken:   r.Header.Get("X-Amz-Security-Token"),
		Authorization:  r.Header.Get("Authorization"),
	}
	in.AccessKeyID, in.Region, in.Service = credentialScope(in.Authorization)
	if !s.verify(w, r, body, in.AccessKeyID, in.Region, in.Service) {
		return
	}
	s.mu.Lock()
	s.invocations = append(s.invocations, in)
	a, scripted := s.answers[in.Function]
	s.mu.Unlock()

	if !scripted && (in.InvocationType == "" || in.InvocationType == "RequestResponse") {
		a = Answer{Payload: body}
	}
	if a.Block {
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
		return
	}
	status := a.Status
	if status == 0 {
		switch in.InvocationType {
		case "Event":
			status = http.StatusAccepted
		case "DryRun":
			status = http.StatusNoContent
		default:
			status = http.StatusOK
		}
	}
	payload := a.Payload
	if status >= http.StatusBadRequest {
		kind := a.ErrorType
		if kind == "" {
			kind = "ServiceException"
		}
		w.Header().Set("X-Amzn-ErrorType", kind)
		if payload == nil {
			payload = errorDocument(kind, fmt.Sprintf("%s answered %d", in.Function, status))
		}
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	}
	if a.FunctionError != "" {
		w.Header().Set("X-Amz-Function-Error", a.FunctionError)
	}
	w.WriteHeader(status)
	if status != http.StatusNoContent {
		_, _ = w.Write(payload)
	}
}

// sts answers the STS query protocol's AssumeRole with credentials derived
// from the role, so that a test can tell which role signed an invocation.
func (s *Server) sts(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	keyID, region, service := credentialScope(r.Header.Get("Authorization"))
	if !s.verify(w, r, body, keyID, region, service) {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("Action") != "AssumeRole" || form.Get("RoleArn") == "" {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>only AssumeRole with a RoleArn is served</Message></Error><RequestId>flint</RequestId></ErrorResponse>`)
		return
	}
	role := form.Get("RoleArn")
	s.mu.Lock()
	s.assumed = append(s.assumed, AssumedRole{RoleARN: role, SessionName: form.Get("RoleSessionName"), AccessKeyID: keyID})
	s.keys[AssumedKeyID(role)] = assumedSecret(role)
	s.mu.Unlock()

	type credentials struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	}
	type result struct {
		XMLName xml.Name    `xml:"AssumeRoleResponse"`
		Creds   credentials `xml:"AssumeRoleResult>Credentials"`
		Arn     string      `xml:"AssumeRoleResult>AssumedRoleUser>Arn"`
		RoleID  string      `xml:"AssumeRoleResult>AssumedRoleUser>AssumedRoleId"`
		Request string      `xml:"ResponseMetadata>RequestId"`
	}
	out, err := xml.Marshal(result{
		Creds: credentials{AccessKeyID: AssumedKeyID(role), SecretAccessKey: assumedSecret(role),
			SessionToken: "session-of-" + role, Expiration: time.Now().Add(time.Hour).UTC().Format(time.RFC3339)},
		Arn: role + "/" + form.Get("RoleSessionName"), RoleID: "AROA" + AssumedKeyID(role)[4:], Request: "flint",
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(out)
}

// readBody reads a request body up to MaxPayload, answering 413 beyond it.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxPayload))
	if err != nil {
		w.Header().Set("X-Amzn-ErrorType", "RequestTooLargeException")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		_, _ = w.Write(errorDocument("RequestTooLargeException", err.Error()))
		return nil, false
	}
	return body, true
}

// verify checks the request's signature when the server knows the secret
// of its key id, answering 403 on a mismatch.
func (s *Server) verify(w http.ResponseWriter, r *http.Request, body []byte, keyID, region, service string) bool {
	s.mu.Lock()
	secret, known := s.keys[keyID]
	s.mu.Unlock()
	if !known {
		return true
	}
	if err := checkSignature(r, body, keyID, secret, region, service); err != nil {
		w.Header().Set("X-Amzn-ErrorType", "InvalidSignatureException")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write(errorDocument("InvalidSignatureException", err.Error()))
		return false
	}
	return true
}

// checkSignature signs a copy of r holding only the headers r signed, at
// the time r was signed, and compares the two signatures.
func checkSignature(r *http.Request, body []byte, keyID, secret, region, service string) error {
	auth := r.Header.Get("Authorization")
	signed := field(auth, "SignedHeaders=")
	when, err := time.Parse(amzDate, r.Header.Get("X-Amz-Date"))
	if err != nil {
		return fmt.Errorf("reading X-Amz-Date: %w", err)
	}
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	cp, err := http.NewRequestWithContext(context.Background(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("copying the request: %w", err)
	}
	cp.Header = http.Header{}
	for _, h := range strings.Split(signed, ";") {
		switch h {
		case "host", "":
		case "content-length":
			cp.ContentLength = int64(len(body))
		default:
			cp.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	cp.Header.Del("X-Amz-Date")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, cp, hex.EncodeToString(sum[:]), service, region, when); err != nil {
		return fmt.Errorf("signing the copy: %w", err)
	}
	if got, want := field(auth, "Signature="), field(cp.Header.Get("Authorization"), "Signature="); got != want {
		return fmt.Errorf("signature does not match (signed headers %s)", signed)
	}
	return nil
}

// credentialScope reads key id, region and service from a SigV4
// Authorization header: `AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, …`.
func credentialScope(auth string) (keyID, region, service string) {
	parts := strings.Split(field(auth, "Credential="), "/")
	if len(parts) != 5 {
		return "", "", ""
	}
	return parts[0], parts[2], parts[3]
}

// field returns the value after prefix in a comma-separated header, up to the next comma.
func field(header, prefix string) string {
	_, rest, ok := strings.Cut(header, prefix)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, ",")
	return strings.TrimSpace(v)
}

// errorDocument is the JSON body Lambda sends with an error status.
func errorDocument(kind, message string) []byte {
	out, _ := json.Marshal(map[string]string{"Type": "User", "message": message, "__type": kind})
	return out
}
