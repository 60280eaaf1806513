// Package builtin registers every source type that ships with flint; hosts
// import it for its side effect.
package builtin

import (
	_ "github.com/flintevents/flint/sources/amqp"        // amqp
	_ "github.com/flintevents/flint/sources/emitter"     // emitter
	_ "github.com/flintevents/flint/sources/github"      // github
	_ "github.com/flintevents/flint/sources/kafka"       // kafka
	_ "github.com/flintevents/flint/sources/mqtt"        // mqtt
	_ "github.com/flintevents/flint/sources/nats"        // nats
	_ "github.com/flintevents/flint/sources/nsq"         // nsq
	_ "github.com/flintevents/flint/sources/redis"       // redis
	_ "github.com/flintevents/flint/sources/redisstream" // redisStream
	_ "github.com/flintevents/flint/sources/resource"    // resource
	_ "github.com/flintevents/flint/sources/webhook"     // webhook
)
