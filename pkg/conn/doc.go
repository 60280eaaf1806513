// Package conn turns the connection blocks that Argo's source and trigger
// types share into what a Go client takes: `tls` into a *tls.Config, `sasl`
// into a mechanism, user and password, and a basic-auth block (`auth`,
// `basicAuth`, `auth.basic`) into a user name and password. Sources and
// triggers both import it, so a new plugin maps its client's options from
// these values instead of reading secrets itself.
//
// Secrets are read through a secret.Resolver with secret.Value; SecretValue
// is the same for a field of a spec checked here, such as redis's
// `password`. Problems
// come back as an *apis.FieldError whose path is relative to the spec that
// holds the block (`tls.caCertSecret`, `sasl.mechanism`; for basic auth,
// whose block name varies, relative to the block: `username`), so a caller
// prefixes its own place with ViaField. No error quotes a secret's value.
//
// AWS configuration lives in the subpackage awsconn, so that plugins not on
// AWS do not link its SDK.
package conn
