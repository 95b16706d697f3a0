package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	snapclient "github.com/kubernetes-csi/external-snapshotter/client/v8/clientset/versioned"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	spr "github.com/spinner-rollback/spinner_rollback/bindings/go"
	"spinner_rollback.example/k8s-host/internal/host"
)

type global struct {
	home, kubeconfig, namespace, author string
	timeout                             time.Duration
	progressDeadline                    int
}

func parseGlobal(args []string) (*global, []string, error) {
	g := &global{}
	fs := flag.NewFlagSet("spr-k8s-host", flag.ContinueOnError)
	fs.StringVar(&g.home, "home", envOr("SPR_K8S_HOME", filepath.Join(os.Getenv("HOME"), ".local/state/spr-k8s-host")), "store and key directory")
	fs.StringVar(&g.kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig file (empty: in-cluster config)")
	fs.StringVar(&g.namespace, "namespace", "default", "namespace of the spinners' objects")
	fs.StringVar(&g.author, "author", envOr("USER", "spr-k8s-host"), "author recorded with versions")
	fs.DurationVar(&g.timeout, "timeout", 5*time.Minute, "bound of every wait (rollout, PVC, snapshot)")
	fs.IntVar(&g.progressDeadline, "progress-deadline", 0, "Deployment progressDeadlineSeconds (0: Kubernetes' default)")
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	return g, fs.Args(), nil
}

// open builds the Host: the store in --home (a key file made on first use)
// and clients from --kubeconfig. The caller closes h.Store.
func (g *global) open() (*host.Host, error) {
	if err := os.MkdirAll(g.home, 0o700); err != nil {
		return nil, err
	}
	key, err := keyFile(filepath.Join(g.home, "store.key"))
	if err != nil {
		return nil, err
	}
	store, err := spr.Open(filepath.Join(g.home, "store.db"), &spr.Options{
		KeyFile: filepath.Join(g.home, "store.key"),
		Pricing: &spr.Pricing{Currency: "USD", PerGiBMonth: map[string]float64{"*": 0.10}},
	})
	if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", g.kubeconfig)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		store.Close()
		return nil, err
	}
	snap, err := snapclient.NewForConfig(cfg)
	if err != nil {
		store.Close()
		return nil, err
	}
	nameKey := sha256.Sum256(append([]byte("spr-k8s-host object names\x00"), key...))
	return &host.Host{
		Store: store, Kube: kube, Snap: snap, Namespace: g.namespace, NameKey: nameKey[:],
		ProgressDeadline: int32(g.progressDeadline), Timeout: g.timeout, Author: g.author, Log: os.Stdout,
	}, nil
}

// keyFile reads the store key (64 hex digits), creating it (0600) if absent.
func keyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		b = []byte(hex.EncodeToString(k))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	return hex.DecodeString(strings.TrimSpace(string(b)))
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// parseInterleaved parses flags that may come before, between or after
// positional arguments, and returns the positionals.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
