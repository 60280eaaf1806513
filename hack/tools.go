//go:build tools

// Package hack pins the modules flint builds on while their first users land.
package hack

import (
	_ "github.com/Masterminds/sprig/v3"
	_ "github.com/aws/aws-sdk-go-v2/service/lambda"
	_ "github.com/cloudevents/sdk-go/sql/v2"
	_ "github.com/cloudevents/sdk-go/v2"
	_ "github.com/expr-lang/expr"
	_ "github.com/itchyny/gojq"
	_ "github.com/nats-io/nats-server/v2/server"
	_ "github.com/nats-io/nats.go/jetstream"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/robfig/cron/v3"
	_ "github.com/spf13/cobra"
	_ "github.com/tidwall/gjson"
	_ "github.com/tidwall/sjson"
	_ "github.com/twmb/franz-go/pkg/kgo"
	_ "github.com/yuin/gopher-lua"
	_ "go.uber.org/zap"
	_ "k8s.io/client-go/dynamic"
	_ "k8s.io/client-go/kubernetes"
	_ "knative.dev/eventing/pkg/apis/eventing/v1"
	_ "knative.dev/pkg/apis"
	_ "knative.dev/pkg/logging"
	_ "knative.dev/serving/pkg/apis/serving/v1"
	_ "sigs.k8s.io/yaml"
)
