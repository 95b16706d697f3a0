package spinnerrollback_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	spr "spinner_rollback.example/go/spinnerrollback"
)

// Record two deploys, refuse a pointless rollback, plan and commit a real
// one, then report it active.
func Example() {
	dir, _ := os.MkdirTemp("", "spr-example-")
	defer os.RemoveAll(dir)

	store, err := spr.Open(filepath.Join(dir, "store.db"), &spr.Options{
		Key: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	v1 := `{"schemaVersion": 1, "instances": 2,
	        "containers": [{"name": "web", "image": {"reference": "registry.example/shop:1.4"}}]}`
	v2 := map[string]any{ // any value is json.Marshal'd
		"schemaVersion": 1, "instances": 3,
		"containers": []any{map[string]any{"name": "web",
			"image": map[string]any{"reference": "registry.example/shop:1.5"}}},
	}
	for _, state := range []any{v1, v2} {
		r, err := store.Record("shop", state, &spr.Meta{Author: "alice"})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("v%d %s: %s\n", r.Version.Number, r.Outcome, r.Version.Summary)
	}

	if _, err := store.PlanRollback("shop", 2, nil); errors.Is(err, spr.ErrCurrentVersion) {
		var e *spr.Error
		errors.As(err, &e)
		fmt.Println("refused:", e.Name, "at", e.Path)
	}

	plan, err := store.PlanRollback("shop", 1, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("plan:", plan.Summary)
	v, err := store.Commit(plan, &spr.Meta{Author: "bob", Message: "undo 1.5"})
	if err != nil {
		log.Fatal(err)
	}
	if err := store.SetStatus("shop", v.Number, spr.StatusActive); err != nil {
		log.Fatal(err)
	}
	versions, _ := store.Versions("shop")
	for _, v := range versions {
		fmt.Printf("v%d current=%v reason=%s status=%s\n", v.Number, v.Current, v.Reason, v.Status)
	}
	// Output:
	// v1 created: first version: image shop:1.4; 2 instances
	// v2 created: image shop:1.4 → shop:1.5; instances 2 → 3
	// refused: SPR_E_CURRENT_VERSION at target
	// plan: rollback to v1: image shop:1.5 → shop:1.4; instances 3 → 2
	// v3 current=true reason=rollback status=active
	// v2 current=false reason=deploy status=pending
	// v1 current=false reason=deploy status=pending
}

// Pin a name on a known-good version, note what went wrong with the next
// one, guard a write with ExpectedCurrent, and roll back only the image.
func ExampleStore_Tag() {
	dir, _ := os.MkdirTemp("", "spr-example-")
	defer os.RemoveAll(dir)
	store, err := spr.Open(filepath.Join(dir, "store.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	state := func(tag, mode string) string {
		return `{"schemaVersion": 1, "instances": 2, "containers": [{"name": "web",
		         "image": {"reference": "registry.example/shop:` + tag + `"},
		         "env": [{"name": "MODE", "value": "` + mode + `"}]}]}`
	}
	none := int64(0)
	if _, err := store.Record("shop", state("1.4", "prod"), &spr.Meta{ExpectedCurrent: &none}); err != nil {
		log.Fatal(err)
	}
	v, err := store.Tag("shop", 1, "known-good", &spr.TagOptions{Note: "passed the load test", Author: "alice"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("v%d tags: %s (%s)\n", v.Number, v.Tags[0].Name, v.Tags[0].Note)

	one := int64(1)
	if _, err := store.Record("shop", state("1.5", "canary"), &spr.Meta{ExpectedCurrent: &one}); err != nil {
		log.Fatal(err)
	}
	_, err = store.Record("shop", state("1.6", "canary"), &spr.Meta{ExpectedCurrent: &one}) // v2 is current now
	fmt.Println("stale write:", errors.Is(err, spr.ErrConflict))
	notes, _ := store.Annotate("shop", 2, "1.5 broke checkout", "bob")
	fmt.Printf("v2 notes: %q by %s\n", notes[0].Text, notes[0].Author)

	target, _ := store.TaggedVersion("shop", "known-good")
	plan, err := store.PlanRollback("shop", target, &spr.PlanRequest{Categories: []string{"image"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("plan:", plan.Summary)
	rb, err := store.Commit(plan, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("v%d rollback of v%d, scope %v\n", rb.Number, *rb.RollbackOf, rb.Scope.Categories)
	// Output:
	// v1 tags: known-good (passed the load test)
	// stale write: true
	// v2 notes: "1.5 broke checkout" by bob
	// plan: rollback to v1: image shop:1.5 → shop:1.4
	// v3 rollback of v1, scope [image]
}
