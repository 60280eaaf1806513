package v1alpha1

// EventDependencyFilter holds the filters of a dependency.
type EventDependencyFilter struct {
	// Time passes events whose time falls in a daily window.
	Time *TimeFilter `json:"time,omitempty"`
	// Context passes events whose context matches.
	Context *EventContext `json:"context,omitempty"`
	// Data are filters on values in the event data.
	Data []DataFilter `json:"data,omitempty"`
	// Exprs are boolean expressions over values in the event data.
	Exprs []ExprFilter `json:"exprs,omitempty"`
	// DataLogicalOperator says how the data filters combine.
	DataLogicalOperator LogicalOperator `json:"dataLogicalOperator,omitempty"`
	// ExprLogicalOperator says how the expression filters combine.
	ExprLogicalOperator LogicalOperator `json:"exprLogicalOperator,omitempty"`
	// Script is a Lua script that must return true.
	Script string `json:"script,omitempty"`
}

// ExprFilter is a boolean expression over named values taken from the event data.
type ExprFilter struct {
	// Expr is the expression.
	Expr string `json:"expr"`
	// Fields bind data paths to the names the expression uses.
	Fields []PayloadField `json:"fields"`
}

// PayloadField binds the value at a gjson path of the event data to a name.
type PayloadField struct {
	Path string `json:"path"`
	Name string `json:"name"`
}

// TimeFilter passes events whose time of day is in [start, stop); a stop
// before start wraps past midnight.
type TimeFilter struct {
	// Start is hh:mm:ss.
	Start string `json:"start"`
	// Stop is hh:mm:ss.
	Stop string `json:"stop"`
	// Timezone is an IANA zone name; UTC when empty.
	Timezone string `json:"timezone,omitempty"`
}

// JSONType is the type a data filter compares values as.
type JSONType string

const (
	// JSONTypeBool compares values as booleans.
	JSONTypeBool JSONType = "bool"
	// JSONTypeNumber compares values as numbers.
	JSONTypeNumber JSONType = "number"
	// JSONTypeString matches values as regular expressions.
	JSONTypeString JSONType = "string"
)

// Comparator is the comparison a data filter applies.
type Comparator string

const (
	// GreaterThanOrEqualTo is ">=".
	GreaterThanOrEqualTo Comparator = ">="
	// GreaterThan is ">".
	GreaterThan Comparator = ">"
	// EqualTo is "=".
	EqualTo Comparator = "="
	// NotEqualTo is "!=".
	NotEqualTo Comparator = "!="
	// LessThan is "<".
	LessThan Comparator = "<"
	// LessThanOrEqualTo is "<=".
	LessThanOrEqualTo Comparator = "<="
	// EmptyComparator is treated as EqualTo.
	EmptyComparator Comparator = ""
)

// DataFilter compares the value at a gjson path of the event data with a list of values.
type DataFilter struct {
	// Path is the gjson path into the event data.
	Path string `json:"path"`
	// Type is how values are compared.
	Type JSONType `json:"type"`
	// Value lists the accepted values; any one matching passes.
	Value []string `json:"value"`
	// Comparator is the comparison; "=" when empty.
	Comparator Comparator `json:"comparator,omitempty"`
	// Template is a Go template applied to the value before comparing.
	Template string `json:"template,omitempty"`
}
