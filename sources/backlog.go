package sources

// KeepsBacklog marks a pull type whose origin keeps the messages that arrive
// while no source reads them (a queue, a stream's consumer group, committed
// offsets), so a source woken on a schedule reads what came meanwhile: `flint
// compile` lets such a type scale to zero. A publish/subscribe origin (redis
// channels, core NATS, mqtt, emitter) keeps nothing for an absent reader, so
// its source runs always.
func KeepsBacklog() Option { return func(t *Type) { t.Backlog = true } }
