package v1alpha1

import (
	"slices"
	"strings"
)

// typeRow is a row of a type table (EventSource types, trigger types): a
// table holds one row per type key, sorted by key.
type typeRow interface {
	typeKey() string
}

// sortedRows sorts the rows of a type table by key.
func sortedRows[R typeRow](rows ...R) []R {
	slices.SortFunc(rows, func(a, b R) int { return strings.Compare(a.typeKey(), b.typeKey()) })
	return rows
}

// findRow returns the row of a type key in a table sorted by key.
func findRow[R typeRow](rows []R, key string) (R, bool) {
	i, ok := slices.BinarySearchFunc(rows, key, func(r R, k string) int { return strings.Compare(r.typeKey(), k) })
	if !ok {
		var none R
		return none, false
	}
	return rows[i], true
}

// rowKeys lists the type keys of a table, sorted.
func rowKeys[R typeRow](rows []R) []string {
	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = r.typeKey()
	}
	return keys
}
