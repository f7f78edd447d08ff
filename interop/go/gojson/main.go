// Command gojson prints how Go's encoding/json decodes objects with duplicate
// and case-folded keys into a struct: one case per line of a JSON array, each
// with the body and the struct Go decoded from it, encoded back. `interop
// record` keeps its output as plugin-spec's fixture
// tests/fixtures/go-json/duplicate-keys.json, and `interop check` fails when
// the fixture differs from what Go answers.
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

// Inner is a nested struct.
type Inner struct {
	Name string
	Note string
}

// Message has a field of each kind Go treats differently on a repeated key.
type Message struct {
	Name  string
	ID    *string
	Count int
	Opts  map[string]string
	List  []string
	Any   interface{}
	Inner Inner
	Ptr   *Inner
	Ks    string
}

var bodies = []string{
	`{"Name":"a","NAME":"b"}`,
	`{"NAME":"b","Name":"a"}`,
	`{"Name":"a","Name":"b"}`,
	`{"name":"a","Name":"b","nAME":"c"}`,
	`{"Name":"a","name":null}`,
	`{"ID":"a","id":null}`,
	`{"ID":"a","id":"b"}`,
	`{"Count":1,"COUNT":2,"count":null}`,
	`{"Opts":{"a":"1"},"opts":{"b":"2","a":"3"}}`,
	`{"Opts":{"a":"1"},"OPTS":null}`,
	`{"List":["a","b"],"list":["c"]}`,
	`{"List":["a"],"LIST":null}`,
	`{"Any":{"a":1},"any":{"b":2}}`,
	`{"Any":"a","ANY":null}`,
	`{"Inner":{"Name":"a","Note":"n"},"inner":{"NAME":"b"}}`,
	`{"Inner":{"Name":"a"},"INNER":null}`,
	`{"Inner":{"Name":"a","name":"b"}}`,
	`{"Ptr":{"Name":"a","Note":"n"},"ptr":{"name":"b"}}`,
	`{"Ptr":{"Name":"a"},"PTR":null}`,
	`{"Ks":"a","` + "\u212a\u017f" + `":"b"}`,
	`{"` + "\u212a\u017f" + `":"b","KS":"c"}`,
	`{"Unknown":1,"unknown":2,"Name":"a"}`,
}

func main() {
	fmt.Println("[")
	for i, body := range bodies {
		var m Message
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			fmt.Fprintf(os.Stderr, "gojson: %s: %v\n", body, err)
			os.Exit(1)
		}
		in, _ := json.Marshal(body)
		out, _ := json.Marshal(m)
		sep := ","
		if i == len(bodies)-1 {
			sep = ""
		}
		fmt.Printf("  {\"body\": %s, \"go\": %s}%s\n", in, out, sep)
	}
	fmt.Println("]")
}
