package k8s

import (
	"encoding/json"
	"testing"
)

func TestJSONPatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, live, want, ops string
	}{
		{
			name: "set, replace, remove and add below absent parents",
			live: `{"metadata":{"name":"a","labels":{"keep":"1","drop":"x"}},"data":{"a":"1"}}`,
			want: `{"metadata":{"name":"a","labels":{"drop":null,"new":"y"},"annotations":{"n":"v","gone":null}},"data":{"a":"2","a/b~c":"3"}}`,
			ops: `[{"op":"replace","path":"/data/a","value":"2"},{"op":"add","path":"/data/a~1b~0c","value":"3"},` +
				`{"op":"add","path":"/metadata/annotations","value":{"n":"v"}},{"op":"remove","path":"/metadata/labels/drop"},` +
				`{"op":"add","path":"/metadata/labels/new","value":"y"},{"op":"replace","path":"/metadata/name","value":"a"}]`,
		},
		{
			name: "lists and scalars replace whole",
			live: `{"spec":{"list":[1,2],"n":1,"obj":{"x":1}}}`,
			want: `{"spec":{"list":[3],"n":false,"obj":"flat"}}`,
			ops:  `[{"op":"replace","path":"/spec/list","value":[3]},{"op":"replace","path":"/spec/n","value":false},{"op":"replace","path":"/spec/obj","value":"flat"}]`,
		},
		{name: "a null on an absent field does nothing", live: `{}`, want: `{"a":null}`, ops: `null`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var live, want map[string]any
			if err := json.Unmarshal([]byte(tc.live), &live); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(jsonPatch(live, want, ""))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.ops {
				t.Errorf("jsonPatch =\n%s\nwant\n%s", got, tc.ops)
			}
		})
	}
}
