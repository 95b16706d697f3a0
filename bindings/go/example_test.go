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
