package v1alpha1

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// SlackTrigger posts a Slack message.
type SlackTrigger struct {
	// Parameters are applied to this trigger's fields.
	Parameters []TriggerParameter `json:"parameters,omitempty"`
	// SlackToken refers to the secret that holds the bot token.
	SlackToken *corev1.SecretKeySelector `json:"slackToken,omitempty"`
	// Channel is the channel to post to.
	Channel string `json:"channel,omitempty"`
	// Message is the message text.
	Message string `json:"message,omitempty"`
	// Attachments is a JSON array of Slack attachments.
	Attachments string `json:"attachments,omitempty"`
	// Blocks is a JSON array of Slack blocks.
	Blocks string `json:"blocks,omitempty"`
	// Thread groups messages into threads.
	Thread SlackThread `json:"thread,omitempty"`
	// Sender sets the posting identity.
	Sender SlackSender `json:"sender,omitempty"`
}

// SlackSender is the name and icon a Slack message is posted with.
type SlackSender struct {
	Username string `json:"username,omitempty"`
	Icon     string `json:"icon,omitempty"`
}

// SlackThread groups messages that share an aggregation key into one thread.
type SlackThread struct {
	MessageAggregationKey     string `json:"messageAggregationKey,omitempty"`
	BroadcastMessageToChannel bool   `json:"broadcastMessageToChannel,omitempty"`
}

// EmailTrigger sends an email over SMTP.
type EmailTrigger struct {
	// Parameters are applied to this trigger's fields.
	Parameters []TriggerParameter `json:"parameters,omitempty"`
	// Username is the SMTP user.
	Username string `json:"username,omitempty"`
	// SMTPPassword refers to the secret that holds the SMTP password.
	SMTPPassword *corev1.SecretKeySelector `json:"smtpPassword,omitempty"`
	// Host is the SMTP host.
	Host string `json:"host,omitempty"`
	// Port is the SMTP port.
	Port int32 `json:"port,omitempty"`
	// To lists the recipients.
	To []string `json:"to,omitempty"`
	// From is the sender address.
	From string `json:"from,omitempty"`
	// Subject is the subject line.
	Subject string `json:"subject,omitempty"`
	// Body is the message body.
	Body string `json:"body,omitempty"`
}

// LogTrigger writes each event to the sensor log.
type LogTrigger struct {
	// IntervalSeconds logs at most once per interval; every event when zero.
	IntervalSeconds uint64 `json:"intervalSeconds,omitempty"`
}

// GetInterval returns IntervalSeconds as a duration.
func (l *LogTrigger) GetInterval() time.Duration {
	return time.Duration(l.IntervalSeconds) * time.Second
}
