// Command template-process instantiates an OpenShift Template the way `oc process --local` does, using OpenShift's
// own processor (library-go templateprocessing), so tests check our templates against the real thing.
//
//	template-process -f template.yaml [-p NAME=VALUE]... > list.json
//
// It prints the processed objects as a v1 List in JSON. Unknown parameter names and processing errors exit 1 with
// the processor's message on stderr.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"time"

	templatev1 "github.com/openshift/api/template/v1"
	"github.com/openshift/library-go/pkg/template/generator"
	"github.com/openshift/library-go/pkg/template/templateprocessing"
	"sigs.k8s.io/yaml"
)

type params []string

func (p *params) String() string     { return strings.Join(*p, ",") }
func (p *params) Set(v string) error { *p = append(*p, v); return nil }

func main() {
	var file string
	var values params
	flag.StringVar(&file, "f", "", "template file (YAML or JSON)")
	flag.Var(&values, "p", "parameter NAME=VALUE (repeatable)")
	flag.Parse()
	if err := run(file, values); err != nil {
		fmt.Fprintln(os.Stderr, "template-process:", err)
		os.Exit(1)
	}
}

func run(file string, values params) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var tpl templatev1.Template
	if err := yaml.UnmarshalStrict(raw, &tpl); err != nil {
		return fmt.Errorf("reading %s: %w", file, err)
	}
	for _, kv := range values {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("parameter %q is not NAME=VALUE", kv)
		}
		p := templateprocessing.GetParameterByName(&tpl, name)
		if p == nil {
			return fmt.Errorf("unknown parameter name %q", name)
		}
		// As oc does for user-supplied values: the value wins over any generator.
		p.Value = value
		p.Generate = ""
	}
	processor := templateprocessing.NewProcessor(map[string]generator.Generator{
		"expression": generator.NewExpressionValueGenerator(rand.New(rand.NewSource(time.Now().UnixNano()))),
	})
	if errs := processor.Process(&tpl); len(errs) > 0 {
		return errs.ToAggregate()
	}
	items := make([]json.RawMessage, 0, len(tpl.Objects))
	for _, o := range tpl.Objects {
		b, err := json.Marshal(o.Object)
		if err != nil {
			return err
		}
		items = append(items, b)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
}
