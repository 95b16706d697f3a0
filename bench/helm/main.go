// Side-by-side harness: Helm v3 release storage vs spinner_rollback (Go binding).
//
// Both get the same sequence: N revisions of one release/spinner where each
// revision changes one env var (REV); optionally the values also carry a
// 1 MiB config file that never changes. See docs/benchmarks.md,
// "Side by side with Helm's release storage".
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	helmtime "helm.sh/helm/v3/pkg/time"
	k8sfake "k8s.io/client-go/kubernetes/fake"

	spr "github.com/spinner-rollback/spinner_rollback/bindings/go"
)

const (
	relName  = "shop"
	ns       = "default"
	password = "s3cr3t-Pa55w0rd-for-the-shop-db"
	appYAML  = "listen: 8080\ncache:\n  size: 64Mi\n  ttl: 30s\nfeatures:\n  checkout: true\n"
	key      = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
)

// Same shape as bench/bench_store.cpp make_big_config: "key_N = <16 hex>\n" lines.
func bigConfig(n int) string {
	r := rand.New(rand.NewSource(42))
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "key_%d = %016x\n", i, r.Uint64())
	}
	return b.String()[:n]
}

func rev(i int) string { return fmt.Sprintf("r%05d", i) }

// ---------------------------------------------------------------- Helm side

var templates = map[string]string{
	"templates/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels: {team: shop, tier: frontend}
spec:
  replicas: {{ .Values.replicas }}
  selector: {matchLabels: {app: {{ .Release.Name }}}}
  template:
    metadata: {labels: {app: {{ .Release.Name }}}}
    spec:
      securityContext: {runAsUser: 1000, runAsNonRoot: true}
      containers:
      - name: web
        image: "{{ .Values.image.repository }}@{{ .Values.image.digest }}"
        command: ["/app/shop"]
        args: ["--listen", ":8080"]
        workingDir: /app
        env:
        {{- range $k, $v := .Values.env }}
        - {name: {{ $k }}, value: {{ $v | quote }}}
        {{- end }}
        - name: DB_PASSWORD
          valueFrom: {secretKeyRef: {name: db, key: password}}
        - name: FLAGS
          valueFrom: {configMapKeyRef: {name: shop-config, key: flags}}
        ports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]
        resources: {requests: {cpu: 500m, memory: 256Mi}}
        securityContext: {readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
        readinessProbe: {httpGet: {path: /healthz, port: 8080}}
        volumeMounts:
        - {name: config, mountPath: /etc/shop}
        - {name: db, mountPath: /run/secrets/db}
        - {name: data, mountPath: /var/lib/shop}
      volumes:
      - {name: config, configMap: {name: shop-config}}
      - {name: db, secret: {secretName: db}}
      - {name: data, persistentVolumeClaim: {claimName: data}}
`,
	"templates/configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: shop-config}
data:
{{- range $k, $v := .Values.config }}
  {{ $k }}: {{ $v | quote }}
{{- end }}
`,
	"templates/secret.yaml": `apiVersion: v1
kind: Secret
metadata: {name: db}
type: Opaque
data:
  password: {{ .Values.secret.password | b64enc }}
`,
	"templates/pvc.yaml": `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteMany], storageClassName: standard, resources: {requests: {storage: 1Gi}}}
`,
}

func newChart() *chart.Chart {
	ch := &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: "shop", Version: "1.4.0", AppVersion: "9f3c2e1"},
		Values: map[string]interface{}{
			"replicas": 2,
			"image":    map[string]interface{}{"repository": "registry.example/shop", "digest": ""},
			"env":      map[string]interface{}{},
			"config":   map[string]interface{}{},
			"secret":   map[string]interface{}{"password": ""},
		},
	}
	names := make([]string, 0, len(templates))
	for n := range templates {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ch.Templates = append(ch.Templates, &chart.File{Name: n, Data: []byte(templates[n])})
	}
	return ch
}

const digest = "sha256:4f2a9c0d1e3b5a7c9e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e7f9a1b3c5d"

func q(s string) string { b, _ := json.Marshal(s); return string(b) }

// values + rendered manifest as `helm upgrade --set env.REV=...` would store them.
func helmRelease(ch *chart.Chart, i int, big string) *release.Release {
	env := map[string]interface{}{"MODE": "prod", "REV": rev(i), "LOG_LEVEL": "info", "DB_HOST": "db.internal:5432"}
	cfg := map[string]interface{}{"flags": "a,b", "app.yaml": appYAML}
	if big != "" {
		cfg["big.txt"] = big
	}
	vals := map[string]interface{}{
		"replicas": 2,
		"image":    map[string]interface{}{"repository": "registry.example/shop", "digest": digest},
		"env":      env,
		"config":   cfg,
		"secret":   map[string]interface{}{"password": password},
	}
	var m strings.Builder
	m.WriteString("---\n# Source: shop/templates/configmap.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: shop-config}\ndata:\n")
	for _, k := range []string{"app.yaml", "big.txt", "flags"} {
		if v, ok := cfg[k]; ok {
			fmt.Fprintf(&m, "  %s: %s\n", k, q(v.(string)))
		}
	}
	fmt.Fprintf(&m, "---\n# Source: shop/templates/pvc.yaml\n%s", templates["templates/pvc.yaml"])
	fmt.Fprintf(&m, "---\n# Source: shop/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata: {name: db}\ntype: Opaque\ndata:\n  password: %s\n",
		base64.StdEncoding.EncodeToString([]byte(password)))
	dep := templates["templates/deployment.yaml"]
	dep = strings.ReplaceAll(dep, "{{ .Release.Name }}", relName)
	dep = strings.ReplaceAll(dep, "{{ .Values.replicas }}", "2")
	dep = strings.ReplaceAll(dep, `"{{ .Values.image.repository }}@{{ .Values.image.digest }}"`, q("registry.example/shop@"+digest))
	var envs strings.Builder
	for _, k := range []string{"DB_HOST", "LOG_LEVEL", "MODE", "REV"} {
		fmt.Fprintf(&envs, "\n        - {name: %s, value: %s}", k, q(env[k].(string)))
	}
	start := strings.Index(dep, "\n        {{- range")
	end := strings.Index(dep, "{{- end }}") + len("{{- end }}")
	dep = dep[:start] + envs.String() + dep[end:]
	fmt.Fprintf(&m, "---\n# Source: shop/templates/deployment.yaml\n%s", dep)
	now := helmtime.Now()
	return &release.Release{
		Name: relName, Namespace: ns, Version: i, Chart: ch, Config: vals, Manifest: m.String(),
		Info: &release.Info{FirstDeployed: now, LastDeployed: now, Status: release.StatusDeployed,
			Description: "Upgrade complete", Notes: "shop is running"},
	}
}

// Exactly pkg/storage/driver/util.go encodeRelease: json -> gzip(BestCompression) -> base64.
func encodeRelease(r *release.Release) (jsonN int, s string) {
	j, err := json.Marshal(r)
	must(err)
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(j)
	w.Close()
	return len(j), base64.StdEncoding.EncodeToString(buf.Bytes())
}

// storage traffic of one `helm upgrade` (pkg/action/upgrade.go minus rendering and kube calls)
func upgradeOnce(st *storage.Storage, next *release.Release) {
	var prev *release.Release
	if l, err := st.Last(relName); err == nil {
		prev = l
		next.Version = prev.Version + 1
		next.Info.FirstDeployed = prev.Info.FirstDeployed
	}
	next.Info.Status, next.Info.Description = release.StatusPendingUpgrade, "Preparing upgrade"
	must(st.Create(next))
	if prev != nil {
		prev.Info.Status = release.StatusSuperseded
		must(st.Update(prev))
	}
	next.Info.Status, next.Info.Description = release.StatusDeployed, "Upgrade complete"
	must(st.Update(next))
}

func config(st *storage.Storage) *action.Configuration {
	return &action.Configuration{Releases: st,
		KubeClient:   &kubefake.PrintingKubeClient{Out: io.Discard, LogOutput: io.Discard},
		Capabilities: chartutil.DefaultCapabilities, Log: func(string, ...interface{}) {}}
}

// rollback preparation as in pkg/action/rollback.go prepareRollback (no writes)
func prepareRollback(st *storage.Storage, target int) *release.Release {
	cur, err := st.Last(relName)
	must(err)
	h, err := st.History(relName)
	must(err)
	found := false
	for _, r := range h {
		if r.Version == target {
			found = true
		}
	}
	if !found {
		panic("no target")
	}
	prev, err := st.Get(relName, target)
	must(err)
	return &release.Release{Name: relName, Namespace: ns, Chart: prev.Chart, Config: prev.Config,
		Manifest: prev.Manifest, Hooks: prev.Hooks, Version: cur.Version + 1, Labels: prev.Labels,
		Info: &release.Info{FirstDeployed: cur.Info.FirstDeployed, LastDeployed: helmtime.Now(),
			Status: release.StatusPendingRollback, Notes: prev.Info.Notes,
			Description: fmt.Sprintf("Rollback to %d", target)}}
}

// ---------------------------------------------------------------- spinner side

func sprState(i int, bigEsc string) string {
	var s strings.Builder
	s.WriteString(`{"schemaVersion":1,"settings":{"rollback":{"enabled":true,"historyLimit":100000},"description":"shop front"},"instances":2,`)
	s.WriteString(`"containers":[{"name":"web","image":{"reference":"registry.example/shop:1.4","digest":"` + digest + `"},`)
	s.WriteString(`"codeVersion":"9f3c2e1","command":["/app/shop"],"args":["--listen",":8080"],"workingDir":"/app",`)
	s.WriteString(`"env":[{"name":"MODE","value":"prod"},{"name":"REV","value":"` + rev(i) + `"},{"name":"LOG_LEVEL","value":"info"},`)
	s.WriteString(`{"name":"DB_HOST","value":"db.internal:5432"},{"name":"DB_PASSWORD","secretRef":{"name":"db","key":"password"}},`)
	s.WriteString(`{"name":"FLAGS","configMapRef":{"name":"shop-config","key":"flags"}}],`)
	s.WriteString(`"ports":[{"name":"http","containerPort":8080,"protocol":"TCP","expose":true},{"name":"metrics","containerPort":9090,"protocol":"TCP","expose":false}],`)
	s.WriteString(`"resources":{"cpu":"500m","memory":"256Mi"},`)
	s.WriteString(`"securityContext":{"runAsUser":1000,"runAsNonRoot":true,"readOnlyRootFilesystem":true,"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}},`)
	s.WriteString(`"mounts":[{"path":"/etc/shop","configMap":"shop-config"},{"path":"/run/secrets/db","secret":"db"},{"path":"/var/lib/shop","volume":"data"}],`)
	s.WriteString(`"probes":{"readiness":{"httpGet":{"path":"/healthz","port":8080}}}}],`)
	s.WriteString(`"volumes":[{"name":"data","mode":"shared","size":"1Gi","storageClass":"standard","volumeId":"vol-7f3a"}],`)
	s.WriteString(`"configMaps":{"shop-config":{"flags":"a,b","app.yaml":` + q(appYAML))
	if bigEsc != "" {
		s.WriteString(`,"big.txt":` + bigEsc)
	}
	s.WriteString(`}},"secrets":{"db":{"password":"` + password + `"}},"labels":{"team":"shop","tier":"frontend"},"extensions":{}}`)
	return s.String()
}

// ---------------------------------------------------------------- measurement

type result struct {
	Case, System, Metric string
	Value                float64
	Unit                 string
}

var results []result

func put(c, sys, metric string, v float64, unit string) {
	results = append(results, result{c, sys, metric, v, unit})
	fmt.Fprintf(os.Stderr, "  %-10s %-28s %-34s %14.3f %s\n", c, sys, metric, v, unit)
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

func median(f func() time.Duration, reps int) time.Duration {
	ds := make([]time.Duration, reps)
	for i := range ds {
		ds[i] = f()
	}
	sort.Slice(ds, func(a, b int) bool { return ds[a] < ds[b] })
	return ds[reps/2]
}

func runHelmMemory(c string, n int, big string) {
	ch := newChart()
	st := storage.Init(driver.NewMemory())
	var createTot, upTot, encTot time.Duration
	var jsonTot, b64Tot, encN int
	for i := 1; i <= n; i++ {
		r := helmRelease(ch, i, big)
		t0 := time.Now()
		upgradeOnce(st, r)
		upTot += time.Since(t0)
		// encoding the revision as the Secret/ConfigMap/SQL drivers do; with
		// the 1 MiB file BestCompression takes ~0.25 s per revision, so only
		// every 100th revision is encoded (sizes differ only in REV).
		if big == "" || i%100 == 1 {
			t1 := time.Now()
			jn, s := encodeRelease(r)
			encTot += time.Since(t1)
			jsonTot += jn
			b64Tot += len(s)
			encN++
		}
	}
	// Create alone on a fresh memory store (no Last/Update)
	st2 := storage.Init(driver.NewMemory())
	for i := 1; i <= n; i++ {
		r := helmRelease(ch, i, big)
		t0 := time.Now()
		must(st2.Create(r))
		createTot += time.Since(t0)
	}
	put(c, "helm-memory", "stored bytes/revision (encoded)", float64(b64Tot)/float64(encN), "B")
	put(c, "helm-memory", "release JSON bytes/revision", float64(jsonTot)/float64(encN), "B")
	put(c, "helm-memory", "Create per revision", us(createTot)/float64(n), "µs")
	put(c, "helm-memory", "upgrade storage ops per revision", us(upTot)/float64(n), "µs")
	put(c, "helm-memory", "encodeRelease per revision", us(encTot)/float64(encN), "µs")
	put(c, "helm-memory", "upgrade ops + encode per revision", us(upTot)/float64(n)+us(encTot)/float64(encN), "µs")
	h := median(func() time.Duration {
		t0 := time.Now()
		hs, err := st.History(relName)
		must(err)
		if len(hs) != n {
			panic("history")
		}
		return time.Since(t0)
	}, 21)
	put(c, "helm-memory", "History (all revisions)", us(h), "µs")
	cfg := config(st)
	hr := median(func() time.Duration {
		t0 := time.Now()
		_, err := action.NewHistory(cfg).Run(relName)
		must(err)
		return time.Since(t0)
	}, 21)
	put(c, "helm-memory", "action.History.Run", us(hr), "µs")
	p := median(func() time.Duration {
		t0 := time.Now()
		prepareRollback(st, 1)
		return time.Since(t0)
	}, 21)
	put(c, "helm-memory", "rollback preparation to rev 1", us(p), "µs")
	rb := median(func() time.Duration {
		a := action.NewRollback(cfg)
		a.Version, a.DisableHooks = 1, true
		t0 := time.Now()
		must(a.Run(relName))
		return time.Since(t0)
	}, 5)
	put(c, "helm-memory", "action.Rollback.Run to rev 1", us(rb), "µs")
}

// Helm's Secrets driver on client-go's in-process fake clientset: the real
// encode/decode path (History decodes every revision), no apiserver/etcd.
func runHelmSecrets(c string, n int) {
	ch := newChart()
	cs := k8sfake.NewSimpleClientset()
	st := storage.Init(driver.NewSecrets(cs.CoreV1().Secrets(ns)))
	var createTot time.Duration
	for i := 1; i <= n; i++ {
		r := helmRelease(ch, i, "")
		t0 := time.Now()
		must(st.Create(r))
		createTot += time.Since(t0)
	}
	put(c, "helm-secrets(fake client)", "Create per revision", us(createTot)/float64(n), "µs")
	h := median(func() time.Duration {
		t0 := time.Now()
		hs, err := st.History(relName)
		must(err)
		if len(hs) != n {
			panic("history")
		}
		return time.Since(t0)
	}, 5)
	put(c, "helm-secrets(fake client)", "History (all revisions)", us(h), "µs")
	p := median(func() time.Duration {
		t0 := time.Now()
		prepareRollback(st, 1)
		return time.Since(t0)
	}, 5)
	put(c, "helm-secrets(fake client)", "rollback preparation to rev 1", us(p), "µs")
}

// Helm's SQL driver (PostgreSQL only) when a DSN is given.
func runHelmSQL(c string, n int, dsn string, big string) {
	sqlNS := "envonly"
	if big != "" {
		sqlNS = "big"
	}
	d, err := driver.NewSQL(dsn, func(string, ...interface{}) {}, sqlNS)
	must(err)
	st := storage.Init(d)
	ch := newChart()
	var createTot time.Duration
	for i := 1; i <= n; i++ {
		r := helmRelease(ch, i, big)
		r.Namespace = sqlNS
		t0 := time.Now()
		must(st.Create(r))
		createTot += time.Since(t0)
	}
	put(c, "helm-sql(postgres)", "Create per revision", us(createTot)/float64(n), "µs")
	reps := 5
	if big != "" {
		reps = 1
	}
	h := median(func() time.Duration {
		t0 := time.Now()
		hs, err := st.History(relName)
		must(err)
		if len(hs) != n {
			panic("history")
		}
		return time.Since(t0)
	}, reps)
	put(c, "helm-sql(postgres)", "History (all revisions)", us(h), "µs")
	p := median(func() time.Duration {
		t0 := time.Now()
		prepareRollback(st, 1)
		return time.Since(t0)
	}, reps)
	put(c, "helm-sql(postgres)", "rollback preparation to rev 1", us(p), "µs")
}

func fileSize(path string) int64 {
	var tot int64
	for _, suf := range []string{"", "-wal", "-shm", "-journal"} {
		if fi, err := os.Stat(path + suf); err == nil && suf != "-shm" {
			tot += fi.Size()
		}
	}
	return tot
}

func runSpinner(c string, n int, big string) {
	dir, err := os.MkdirTemp("", "spr-helm-")
	must(err)
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "store.db")
	opts := &spr.Options{Key: key, Durability: spr.DurabilityNormal}
	bigEsc := ""
	if big != "" {
		bigEsc = q(big)
	}
	var recTot time.Duration
	s, err := spr.Open(path, opts)
	must(err)
	record := func(i int) {
		doc := json.RawMessage(sprState(i, bigEsc))
		t0 := time.Now()
		r, err := s.Record(relName, doc, nil)
		recTot += time.Since(t0)
		must(err)
		if r.Outcome != spr.OutcomeCreated {
			panic("not created: " + r.Outcome)
		}
	}
	record(1)
	must(s.Close())
	s1 := fileSize(path)
	s, err = spr.Open(path, opts)
	must(err)
	for i := 2; i <= n; i++ {
		record(i)
	}
	must(s.Close())
	sn := fileSize(path)
	put(c, "spinner_rollback", "stored bytes/revision (file/N)", float64(sn)/float64(n), "B")
	put(c, "spinner_rollback", "marginal bytes/revision", float64(sn-s1)/float64(n-1), "B")
	put(c, "spinner_rollback", "file size after v1", float64(s1), "B")
	put(c, "spinner_rollback", "file size after all", float64(sn), "B")
	put(c, "spinner_rollback", "Record per revision", us(recTot)/float64(n), "µs")
	s, err = spr.Open(path, opts)
	must(err)
	defer s.Close()
	h := median(func() time.Duration {
		t0 := time.Now()
		vs, err := s.Versions(relName)
		must(err)
		if len(vs) != n {
			panic(fmt.Sprintf("versions: %d", len(vs)))
		}
		return time.Since(t0)
	}, 21)
	put(c, "spinner_rollback", "Versions (all revisions)", us(h), "µs")
	var plan *spr.Plan
	p := median(func() time.Duration {
		t0 := time.Now()
		pl, err := s.PlanRollback(relName, 1, nil)
		must(err)
		plan = pl
		return time.Since(t0)
	}, 21)
	put(c, "spinner_rollback", "PlanRollback to v1", us(p), "µs")
	t0 := time.Now()
	_, err = s.Commit(plan, &spr.Meta{Confirmed: true})
	cm := time.Since(t0)
	must(err)
	put(c, "spinner_rollback", "Commit of that plan (once)", us(cm), "µs")
}

func main() {
	n := flag.Int("n", 1000, "revisions")
	out := flag.String("json", "", "write results as JSON here")
	dsn := flag.String("sql", os.Getenv("HELM_SQL_DSN"), "PostgreSQL DSN for Helm's SQL driver (empty: skip)")
	flag.Parse()
	big := bigConfig(1 << 20)
	for _, cs := range []struct {
		name, big string
	}{{"env-only", ""}, {"+1MiB", big}} {
		fmt.Fprintf(os.Stderr, "== %s, %d revisions\n", cs.name, *n)
		runHelmMemory(cs.name, *n, cs.big)
		if cs.big == "" {
			runHelmSecrets(cs.name, *n)
		}
		// SQL with the 1 MiB file would spend ~0.25 s encoding each of the
		// 1,000 revisions (plus decoding them on every read): env-only only.
		if *dsn != "" && cs.big == "" {
			runHelmSQL(cs.name, *n, *dsn, cs.big)
		}
		runSpinner(cs.name, *n, cs.big)
	}
	if *out != "" {
		b, _ := json.MarshalIndent(results, "", " ")
		must(os.WriteFile(*out, b, 0o644))
	}
}
