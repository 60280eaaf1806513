#!/usr/bin/env bash
# Starts the machine services the tests use when they are not running:
# RabbitMQ on 127.0.0.1:5672 (the amqp source's tests make a vhost each on
# it with rabbitmqctl). Other servers the tests start themselves.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 5672; then
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    echo "hack/services.sh: RabbitMQ is not running and rabbitmq-server is not installed" >&2
    exit 1
  fi
  echo "hack/services.sh: starting RabbitMQ (rabbitmq-server -detached)"
  rabbitmq-server -detached
  for _ in $(seq 1 120); do
    port_open 5672 && break
    sleep 1
  done
  if ! port_open 5672; then
    echo "hack/services.sh: RabbitMQ did not open 127.0.0.1:5672 within 120s" >&2
    exit 1
  fi
  # The port opens before the node finishes booting; wait for it to answer.
  rabbitmqctl -q await_startup --timeout 120 >/dev/null
fi
