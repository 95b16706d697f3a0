package spinnerrollback_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	spr "github.com/spinner-rollback/spinner_rollback/bindings/go"
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

// Read the store's outbox, then follow it: a goroutine waits for events
// while another handle (here: another goroutine, elsewhere: another
// process) writes.
func ExampleStore_WaitEvents() {
	dir, _ := os.MkdirTemp("", "spr-example-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "store.db")
	store, err := spr.Open(path, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	state := func(tag string) string {
		return `{"schemaVersion": 1, "instances": 2, "containers": [{"name": "web",
		         "image": {"reference": "registry.example/shop:` + tag + `"}}]}`
	}
	if _, err := store.Record("shop", state("1.4"), nil); err != nil {
		log.Fatal(err)
	}
	page, err := store.Events(0, 100)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range page.Events {
		fmt.Printf("%d %s %s v%d\n", e.Seq, e.Type, e.Spinner, *e.Version)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seen := make(chan spr.Event)
	go func() { // the follower
		defer close(seen)
		for after := page.Next; ; {
			p, err := store.WaitEvents(ctx, after, time.Minute)
			if err != nil {
				return // ctx done, or the store closed
			}
			for _, e := range p.Events {
				seen <- e
			}
			after = p.Next
		}
	}()

	other, err := spr.Open(path, nil) // a second handle on the same file
	if err != nil {
		log.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Record("shop", state("1.5"), nil); err != nil {
		log.Fatal(err)
	}
	if _, err := other.Tag("shop", 2, "canary", nil); err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		e := <-seen
		var data struct{ Summary, Name string } // Data's fields depend on Type
		if err := json.Unmarshal(e.Data, &data); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d %s %s v%d %s%s\n", e.Seq, e.Type, e.Spinner, *e.Version, data.Summary, data.Name)
	}
	cancel()
	for range seen { // wait for the follower to stop
	}
	// Output:
	// 1 version.created shop v1
	// 2 version.created shop v2 image shop:1.4 → shop:1.5
	// 3 tag.set shop v2 canary
}

// Put a new key first in the keyring, rotate (re-sealing every secret under
// a new data key), and retire the old key.
func ExampleStore_RotateKey() {
	dir, _ := os.MkdirTemp("", "spr-example-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "store.db")
	oldKey := "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	newKey := "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100"
	state := `{"schemaVersion": 1, "instances": 2, "containers": [{"name": "web",
	           "image": {"reference": "registry.example/shop:1.4"},
	           "env": [{"name": "DB_PASSWORD", "secretRef": {"name": "db", "key": "password"}}]}],
	           "secrets": {"db": {"password": "s3cret"}}}`

	store, err := spr.Open(path, &spr.Options{Key: oldKey})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := store.Record("shop", state, nil); err != nil {
		log.Fatal(err)
	}
	store.Close()

	// Every process gets the new ring first: k2 wraps, k1 still unwraps.
	store, err = spr.Open(path, &spr.Options{Keys: []spr.KeyringKey{{ID: "k2", Key: newKey}, {ID: "k1", Key: oldKey}}})
	if err != nil {
		log.Fatal(err)
	}
	r, err := store.RotateKey(&spr.RotateOptions{Reseal: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("wrapped by %s, %d secret value(s) re-sealed\n", r.KeyID, r.Resealed)
	store.Close()

	_, err = spr.Open(path, &spr.Options{Key: oldKey})
	fmt.Println("old key alone:", errors.Is(err, spr.ErrNoKey))
	store, err = spr.Open(path, &spr.Options{Key: newKey})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	v, _ := store.Get("shop", 1, true)
	var doc struct{ Secrets map[string]map[string]string }
	_ = json.Unmarshal(v.State, &doc)
	fmt.Println("new key alone:", doc.Secrets["db"]["password"])
	// Output:
	// wrapped by k2, 1 secret value(s) re-sealed
	// old key alone: true
	// new key alone: s3cret
}

// Move a spinner's history to another store as a bundle file, import it
// again (nothing to do), and migrate the whole store to a third.
func ExampleStore_Export() {
	dir, _ := os.MkdirTemp("", "spr-example-")
	defer os.RemoveAll(dir)
	store, err := spr.Open(filepath.Join(dir, "store.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	for _, tag := range []string{"1.4", "1.5"} {
		state := `{"schemaVersion": 1, "instances": 2, "containers": [{"name": "web",
		           "image": {"reference": "registry.example/shop:` + tag + `"}}]}`
		if _, err := store.Record("shop", state, nil); err != nil {
			log.Fatal(err)
		}
	}

	bundle := filepath.Join(dir, "shop.bundle")
	// A BundleOptions key is needed when a version holds a secret value.
	if err := store.Export("shop", bundle, nil); err != nil {
		log.Fatal(err)
	}
	other, err := spr.Open(filepath.Join(dir, "other.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer other.Close()
	for i := 0; i < 2; i++ {
		r, err := other.Import(bundle, nil)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("import: %d version(s) imported, %d skipped\n", r.VersionsImported, r.VersionsSkipped)
	}

	m, err := store.Migrate(filepath.Join(dir, "third.db"), &spr.Options{Durability: spr.DurabilityNormal})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("migrate: %d spinner(s), %d version(s) verified\n", m.Imported.SpinnersImported, m.VersionsVerified)
	// Output:
	// import: 2 version(s) imported, 0 skipped
	// import: 0 version(s) imported, 2 skipped
	// migrate: 1 spinner(s), 2 version(s) verified
}
