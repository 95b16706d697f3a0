package spinnerrollback_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	spr "github.com/spinner-rollback/spinner_rollback/bindings/go"
)

// 16 goroutines record distinct states on one Store: numbering stays
// gap-free and exactly one version is current.
func TestConcurrentRecord(t *testing.T) {
	s, _ := openTemp(t, &spr.Options{BusyTimeoutMs: 30000})
	const workers, each = 16, 8
	var wg sync.WaitGroup
	nums := make(chan int64, workers*each)
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				// Distinct content per call, so every record creates a version.
				r, err := s.Record("shop", st{Tag: fmt.Sprintf("%d.%d", w, i), Instances: w*each + i + 1, HistoryLimit: 1000}.doc(),
					&spr.Meta{Author: fmt.Sprintf("worker-%d", w)})
				if err != nil {
					errs <- err
					return
				}
				if r.Outcome != spr.OutcomeCreated || r.Version == nil {
					errs <- fmt.Errorf("worker %d: %+v", w, r)
					return
				}
				nums <- r.Version.Number
				runtime.Gosched()
			}
		}(w)
	}
	wg.Wait()
	close(nums)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for n := range nums {
		if seen[n] {
			t.Fatalf("version %d returned twice", n)
		}
		seen[n] = true
	}
	vs, err := s.Versions("shop")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != workers*each || len(seen) != workers*each {
		t.Fatalf("want %d versions, listed %d, returned %d", workers*each, len(vs), len(seen))
	}
	current := 0
	for i, v := range vs {
		if want := int64(workers*each - i); v.Number != want {
			t.Fatalf("listing[%d] = v%d, want v%d (gap or disorder)", i, v.Number, want)
		}
		if v.Current {
			current++
		}
	}
	if current != 1 || !vs[0].Current {
		t.Fatalf("%d current versions; newest current=%v", current, vs[0].Current)
	}
}

// Concurrent failing calls each get their own error: the C call and the
// read of the thread-local error happen in one cgo call.
func TestConcurrentErrorsAreOwn(t *testing.T) {
	s, _ := openTemp(t, nil)
	record(t, s, "shop", st{Tag: "1.4"}, nil)
	record(t, s, "shop", st{Tag: "1.5"}, nil) // v2 is current
	const workers, iters = 16, 300
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < iters; i++ {
				var err error
				var wantCode int
				var wantPath, wantInMsg string
				switch (w + i) % 4 {
				case 0: // plan to the current version
					_, err = s.PlanRollback("shop", 2, nil)
					wantCode, wantPath, wantInMsg = spr.CodeCurrentVersion, "target", "version 2"
				case 1: // an invalid spinner name
					_, err = s.Versions(fmt.Sprintf("Bad_%d_%d", w, i))
					wantCode, wantPath = spr.CodeInvalid, "spinner"
				case 2: // a version that does not exist; its number is in the message
					n := int64(1000 + w*iters + i)
					_, err = s.Get("shop", n, false)
					wantCode, wantInMsg = spr.CodeNotFound, fmt.Sprint(n)
				case 3: // a success in between: must not see a stale error
					_, err = s.Versions("shop")
				}
				if wantCode == 0 {
					if err != nil {
						errs <- fmt.Errorf("worker %d iter %d: unexpected %v", w, i, err)
						return
					}
					continue
				}
				var e *spr.Error
				if !errors.As(err, &e) {
					errs <- fmt.Errorf("worker %d iter %d: want code %d, got %v", w, i, wantCode, err)
					return
				}
				if e.Code != wantCode || (wantPath != "" && e.Path != wantPath) || !strings.Contains(e.Message, wantInMsg) {
					errs <- fmt.Errorf("worker %d iter %d: got someone else's error? code %d path %q msg %q (want code %d path %q msg ∋ %q)",
						w, i, e.Code, e.Path, e.Message, wantCode, wantPath, wantInMsg)
					return
				}
				if i%16 == 0 {
					runtime.Gosched()
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Close waits for calls in flight; calls racing with Close either finish
// normally or return ErrClosed — never crash.
func TestCloseWhileInUse(t *testing.T) {
	s, _ := openTemp(t, nil)
	record(t, s, "shop", st{Tag: "1.4"}, nil)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; i < 200; i++ {
				if _, err := s.Versions("shop"); err != nil {
					if !errors.Is(err, spr.ErrClosed) {
						t.Errorf("unexpected %v", err)
					}
					return
				}
			}
		}()
	}
	close(start)
	runtime.Gosched()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}
