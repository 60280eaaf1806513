package kafka

import (
	"hash/fnv"
	"math/rand/v2"

	"github.com/twmb/franz-go/pkg/kgo"
)

// unset is the Record.Partition of a record whose partition the
// partitioner chooses.
const unset = -1

// saramaPartitioner places records as Argo's sarama producer does with its
// default hash partitioner, except for a record whose partition is set
// (`partition`), which goes there (an out-of-range one fails).
func saramaPartitioner() kgo.Partitioner {
	return kgo.BasicConsistentPartitioner(func(string) func(*kgo.Record, int) int {
		return func(r *kgo.Record, n int) int {
			switch {
			case r.Partition != unset:
				return int(r.Partition)
			case r.Key != nil:
				return int(HashPartition(r.Key, int32(n)))
			default:
				return rand.IntN(n)
			}
		}
	})
}

// HashPartition is sarama's hash partition of a key among n partitions:
// the FNV-1a 32-bit hash read as a signed number, modulo n, negated when
// negative (not Java's murmur2, nor its mask of the sign bit).
func HashPartition(key []byte, n int32) int32 {
	h := fnv.New32a()
	_, _ = h.Write(key)
	p := int32(h.Sum32()) % n
	if p < 0 {
		p = -p
	}
	return p
}
