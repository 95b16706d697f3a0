// Command crossdump records an optional state into a store and prints every
// retained version with its revealed state as JSON, for the cross-language
// test (tests/cross): the CLI, Python and Go must read one file identically.
//
//	crossdump -store S.db -key-file K -spinner shop [-record STATE.json]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	spr "github.com/spinner-rollback/spinner_rollback/bindings/go"
)

func main() {
	store := flag.String("store", "", "store file")
	keyFile := flag.String("key-file", "", "key file")
	spinner := flag.String("spinner", "", "spinner name")
	record := flag.String("record", "", "state file to record first (optional)")
	flag.Parse()
	if err := run(*store, *keyFile, *spinner, *record); err != nil {
		fmt.Fprintln(os.Stderr, "crossdump:", err)
		os.Exit(1)
	}
}

func run(path, keyFile, spinner, record string) error {
	s, err := spr.Open(path, &spr.Options{KeyFile: keyFile})
	if err != nil {
		return err
	}
	defer s.Close()
	if record != "" {
		state, err := os.ReadFile(record)
		if err != nil {
			return err
		}
		if _, err := s.Record(spinner, json.RawMessage(state), &spr.Meta{Author: "go"}); err != nil {
			return err
		}
	}
	versions, err := s.Versions(spinner)
	if err != nil {
		return err
	}
	type entry struct {
		Version spr.Version     `json:"version"`
		State   json.RawMessage `json:"state"`
	}
	var out []entry
	for _, v := range versions {
		d, err := s.Get(spinner, v.Number, true)
		if err != nil {
			return err
		}
		out = append(out, entry{Version: v, State: d.State})
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
