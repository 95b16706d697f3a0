// testapp is the tiny HTTP server the Docker example host deploys in its
// end-to-end test. It has no dependencies and builds as a static binary
// (CGO_ENABLED=0) for a FROM scratch image.
//
//	GET  /healthz       200 "ok" (500 when the env FAIL_HEALTH is "1")
//	GET  /version       {"version": "<build version>"}
//	GET  /env           the process environment as a JSON object
//	GET  /config        files under /etc/app, relative name -> content
//	GET  /secrets       files under /run/secrets: relative name -> sha256 of the
//	                    content (proves they are readable, never shows them)
//	GET  /data          files under /data, relative name -> content
//	POST /data/<name>   write the request body to /data/<name>
//
// The listen address is ":8080" unless the env LISTEN says otherwise.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// version is set at build time: -ldflags "-X main.version=2".
var version = "dev"

const (
	configDir = "/etc/app"
	secretDir = "/run/secrets"
	dataDir   = "/data"
	maxBody   = 1 << 20
)

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-App-Version", version)
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// readTree returns every regular file under dir (following the symlinks a
// Kubernetes-style projection would create), keyed by its path relative to dir.
// A missing dir is an empty tree.
func readTree(dir string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == dir {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	return out, err
}

func validName(name string) bool {
	if name == "" || len(name) > 255 || name == "." || name == ".." {
		return false
	}
	for _, r := range name {
		ok := r == '-' || r == '_' || r == '.' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if os.Getenv("FAIL_HEALTH") == "1" {
			http.Error(w, "unhealthy (FAIL_HEALTH=1)", http.StatusInternalServerError)
			return
		}
		w.Header().Set("X-App-Version", version)
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]string{"version": version})
	})
	mux.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) {
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		writeJSON(w, 200, env)
	})
	mux.HandleFunc("/config", func(w http.ResponseWriter, r *http.Request) {
		files, err := readTree(configDir)
		if err != nil {
			fail(w, 500, err.Error())
			return
		}
		writeJSON(w, 200, files)
	})
	mux.HandleFunc("/secrets", func(w http.ResponseWriter, r *http.Request) {
		files, err := readTree(secretDir)
		if err != nil {
			fail(w, 500, err.Error())
			return
		}
		sums := map[string]string{}
		for name, content := range files {
			sums[name] = fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(content)))
		}
		writeJSON(w, 200, sums)
	})
	mux.HandleFunc("/data", func(w http.ResponseWriter, r *http.Request) {
		files, err := readTree(dataDir)
		if err != nil {
			fail(w, 500, err.Error())
			return
		}
		writeJSON(w, 200, files)
	})
	mux.HandleFunc("/data/", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/data/")
		if !validName(name) {
			fail(w, 400, "file name must match [-._a-zA-Z0-9]+")
			return
		}
		switch r.Method {
		case http.MethodGet:
			b, err := os.ReadFile(filepath.Join(dataDir, name))
			if err != nil {
				fail(w, 404, err.Error())
				return
			}
			_, _ = w.Write(b)
		case http.MethodPost, http.MethodPut:
			body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
			if err != nil || len(body) > maxBody {
				fail(w, 413, "body too large or unreadable")
				return
			}
			if err := os.WriteFile(filepath.Join(dataDir, name), body, 0o644); err != nil {
				fail(w, 500, err.Error())
				return
			}
			writeJSON(w, 201, map[string]any{"name": name, "bytes": len(body)})
		default:
			w.Header().Set("Allow", "GET, POST, PUT")
			fail(w, 405, "method not allowed")
		}
	})

	addr := os.Getenv("LISTEN")
	if addr == "" {
		addr = ":8080"
	}
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	// As PID 1 in a scratch image, exit promptly on SIGTERM (docker stop).
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Printf("testapp %s listening on %s", version, addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
