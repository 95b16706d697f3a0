package spinnerrollback

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Durability of commits (options "durability").
const (
	DurabilityFull   = "full"   // fsync on every commit (the library default)
	DurabilityNormal = "normal" // faster; the last commits may be lost on power failure, never corrupted
)

// Options configure Open. The zero value (or a nil *Options) uses the
// library's defaults: no key, default policy, no pricing.
type Options struct {
	// Key is the 32-byte secret-encryption key as 64 hex digits or base64.
	// Without Key, KeyFile or Keys, states holding secret values are refused
	// (ErrNoKey).
	Key string `json:"key,omitempty"`
	// KeyFile names a file holding the key (instead of Key).
	KeyFile string `json:"keyFile,omitempty"`
	// Keys is a keyring, instead of Key or KeyFile (at most 16 keys,
	// distinct IDs): the first key wraps the store's data key, any key
	// unwraps it. Put a new key first, roll the ring out to every process,
	// then Store.RotateKey re-wraps under it and the others can be retired.
	// When no key of the ring opens the store, Open fails with ErrNoKey
	// (Path "options.keys"). nil means no keyring; an empty non-nil ring is
	// sent as is (and refused, ErrInvalid).
	Keys []KeyringKey `json:"-"`
	// Pricing is used to estimate the cost of volumes provisioned from snapshots.
	Pricing *Pricing `json:"pricing,omitempty"`
	// Policy sets which changes create a version; nil means the defaults.
	Policy *Policy `json:"policy,omitempty"`
	// BusyTimeoutMs is how long a write waits for a lock held by another
	// process before failing with ErrBusy. 0 keeps the library default;
	// a negative value means "do not wait".
	BusyTimeoutMs int `json:"-"`
	// Durability is DurabilityFull or DurabilityNormal ("" = library default).
	Durability string `json:"durability,omitempty"`
	// MaxTaggedVersions caps how many versions of one spinner may carry
	// tags (1-10000; 0 = library default, 50): Store.Tag beyond it fails with
	// ErrConflict.
	MaxTaggedVersions int `json:"maxTaggedVersions,omitempty"`
	// EventsLimit is how many events the outbox keeps, the newest
	// (1-100000000; 0 = library default, 100000). See Store.Events.
	EventsLimit int `json:"eventsLimit,omitempty"`
}

func (o Options) MarshalJSON() ([]byte, error) {
	type plain Options
	aux := struct {
		plain
		BusyTimeoutMs *int          `json:"busyTimeoutMs,omitempty"`
		Keys          *[]KeyringKey `json:"keys,omitempty"`
	}{plain: plain(o)}
	if o.BusyTimeoutMs != 0 {
		ms := max(o.BusyTimeoutMs, 0)
		aux.BusyTimeoutMs = &ms
	}
	if o.Keys != nil {
		aux.Keys = &o.Keys
	}
	return json.Marshal(aux)
}

// KeyringKey is one key of a keyring (Options.Keys). ID labels it (1-64 of
// [A-Za-z0-9._-]; Store.RotateKey reports it, the store never keeps it); Key
// (64 hex digits or base64 of 32 bytes) or KeyFile gives the key itself.
// Printing a KeyringKey with the fmt verbs never shows Key.
type KeyringKey struct {
	ID      string `json:"id"`
	Key     string `json:"key,omitempty"`
	KeyFile string `json:"keyFile,omitempty"`
}

// String describes the key without its value ("<redacted>" in its place).
func (k KeyringKey) String() string {
	return fmt.Sprintf("{ID:%s Key:%s KeyFile:%s}", k.ID, k.redacted(), k.KeyFile)
}

// GoString is String for the %#v verb.
func (k KeyringKey) GoString() string {
	return fmt.Sprintf("spinnerrollback.KeyringKey{ID:%q, Key:%q, KeyFile:%q}", k.ID, k.redacted(), k.KeyFile)
}

func (k KeyringKey) redacted() string {
	if k.Key == "" {
		return ""
	}
	return "<redacted>"
}

// Pricing of storage per GiB-month, per storage class ("*" is the fallback).
type Pricing struct {
	Currency    string             `json:"currency,omitempty"` // 3 letters, e.g. "USD"
	PerGiBMonth map[string]float64 `json:"perGiBMonth,omitempty"`
}

// Policy is a SnapshotPolicy: the categories (e.g. "image", "env") and
// "extensions.…" paths whose change creates a version. A nil Triggers slice
// means the default set; an empty non-nil slice tracks nothing.
type Policy struct {
	Triggers []string
}

func (p Policy) MarshalJSON() ([]byte, error) {
	if p.Triggers == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(struct {
		Triggers []string `json:"triggers"`
	}{p.Triggers})
}

func (p *Policy) UnmarshalJSON(b []byte) error {
	var aux struct {
		Triggers []string `json:"triggers"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	p.Triggers = aux.Triggers
	return nil
}

// Meta describes who made a change and why; every field is optional.
type Meta struct {
	Author  string `json:"author,omitempty"`
	Message string `json:"message,omitempty"`
	// RequestID makes a write idempotent: a retry with the same id returns
	// the first result instead of creating a duplicate.
	RequestID string `json:"requestId,omitempty"`
	// Confirmed must be true to commit a plan whose RequiresConfirmation is set.
	Confirmed bool `json:"confirmed,omitempty"`
	// ExpectedCurrent makes Record and Commit a compare-and-set: when
	// non-nil, the write happens only if the spinner's current version is
	// *ExpectedCurrent (0: the spinner has no version yet); otherwise they
	// fail with ErrConflict and nothing is written. nil: no check.
	ExpectedCurrent *int64 `json:"expectedCurrent,omitempty"`
}

// Outcomes of Record and EvaluatePolicy.
const (
	OutcomeCreated   = "created"
	OutcomeUnchanged = "unchanged"
	OutcomeDisabled  = "disabled"
)

// Reasons a version was created (Version.Reason).
const (
	ReasonDeploy    = "deploy"
	ReasonRollback  = "rollback"
	ReasonReenabled = "reenabled"
)

// Status is a version's rollout status, reported by the host with SetStatus.
type Status string

const (
	StatusPending    Status = "pending"
	StatusActive     Status = "active"
	StatusFailed     Status = "failed"
	StatusSuperseded Status = "superseded"
)

// Trigger is one policy reason: the category and JSON path that changed.
type Trigger struct {
	Category string `json:"category"`
	Path     string `json:"path"`
}

// Tag is a name pinned on a version (Store.Tag). A tagged version is never
// pruned and does not count toward historyLimit.
type Tag struct {
	Name      string    `json:"name"`   // a DNS-1123 label, unique per spinner
	Note      string    `json:"note"`   // why it is pinned; may be empty
	Author    string    `json:"author"` // who pinned it; may be empty
	CreatedAt time.Time `json:"createdAt"`
}

// TagOptions are the optional parts of Store.Tag; a nil *TagOptions means
// none.
type TagOptions struct {
	Note   string `json:"note,omitempty"`   // at most 4096 bytes
	Author string `json:"author,omitempty"` // at most 256 bytes
	// Move takes the name from the version that holds it; without it, a
	// name held by another version is ErrConflict.
	Move bool `json:"move,omitempty"`
}

// Note is a note appended to a version after the fact (Store.Annotate).
type Note struct {
	Author    string    `json:"author"` // may be empty
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"createdAt"` // set by the store
}

// RestorePoint is a registered snapshot seen as a restore point of one
// version's volume. Relation is "during" (taken while the version was
// current: its data), "before" or "after".
type RestorePoint struct {
	Snapshot
	Relation string `json:"relation"`
}

// VolumeRestorePoints are the restore points of one volume of a version,
// nearest to the version's data first.
type VolumeRestorePoints struct {
	Volume    string         `json:"volume"`
	VolumeIDs []string       `json:"volumeIds"`
	Snapshots []RestorePoint `json:"snapshots"`
}

// RestorePoints is what Store.RestorePoints returns. CurrentUntil is nil
// while the version is current.
type RestorePoints struct {
	Spinner      string                `json:"spinner"`
	Number       int64                 `json:"number"`
	CurrentFrom  time.Time             `json:"currentFrom"`
	CurrentUntil *time.Time            `json:"currentUntil"`
	Volumes      []VolumeRestorePoints `json:"volumes"`
}

// RollbackScope is what a rollback took from its target version
// (Version.Scope): Name is ScopeTracked or ScopeAll, or "" for a partial
// rollback of only Categories (e.g. ["image"]). In JSON it is "tracked",
// "all" or the array of categories.
type RollbackScope struct {
	Name       string   // ScopeTracked or ScopeAll; "" when Categories is set
	Categories []string // a partial rollback: the categories taken from the target
}

func (r RollbackScope) MarshalJSON() ([]byte, error) {
	if r.Name != "" {
		return json.Marshal(r.Name)
	}
	if r.Categories == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(r.Categories)
}

func (r *RollbackScope) UnmarshalJSON(b []byte) error {
	var name string
	if json.Unmarshal(b, &name) == nil {
		*r = RollbackScope{Name: name}
		return nil
	}
	var cats []string
	if err := json.Unmarshal(b, &cats); err != nil {
		return err
	}
	*r = RollbackScope{Categories: cats}
	return nil
}

// Version is one entry of a spinner's history (the listing fields).
type Version struct {
	Spinner    string    `json:"spinner"`
	Number     int64     `json:"number"`
	Current    bool      `json:"current"`
	CreatedAt  time.Time `json:"createdAt"`
	Author     string    `json:"author"`
	Message    string    `json:"message"`
	Reason     string    `json:"reason"`  // ReasonDeploy, ReasonRollback or ReasonReenabled
	Reasons    []Trigger `json:"reasons"` // what the policy saw change
	Summary    string    `json:"summary"`
	Digest     string    `json:"digest"`     // sha256 of the canonical content
	RollbackOf *int64    `json:"rollbackOf"` // the target of a rollback, else nil
	Status     Status    `json:"status"`
	// Scope is what a rollback took from its target; nil for other versions.
	Scope *RollbackScope `json:"scope"`
	Tags  []Tag          `json:"tags"` // names pinned on the version, sorted by name
}

// VersionDetail is a Version with its full state document (Store.Get).
type VersionDetail struct {
	Version
	// State is the state document; secret values are "<redacted>" unless
	// revealed.
	State json.RawMessage `json:"state"`
	// Notes are the notes appended with Store.Annotate, oldest first.
	Notes []Note `json:"notes"`
}

// RecordResult is what Store.Record returns.
type RecordResult struct {
	Outcome string    `json:"outcome"` // OutcomeCreated, OutcomeUnchanged or OutcomeDisabled
	Version *Version  `json:"version"` // the new version when Outcome is OutcomeCreated
	Reasons []Trigger `json:"reasons"`
}

// Change kinds in a Diff.
const (
	KindAdded   = "added"
	KindRemoved = "removed"
	KindChanged = "changed"
)

// Change is one field-level difference. From and To are JSON values (null
// when absent); secret values are always masked.
type Change struct {
	Path     string          `json:"path"`
	Category string          `json:"category"`
	Kind     string          `json:"kind"`
	From     json.RawMessage `json:"from"`
	To       json.RawMessage `json:"to"`
}

// Diff is a list of field-level changes.
type Diff struct {
	Changes []Change `json:"changes"`
}

// Plan scopes (PlanRequest.Scope, RollbackScope.Name).
const (
	ScopeTracked = "tracked" // restore tracked content only (default)
	ScopeAll     = "all"     // restore untracked fields too
)

// DataSource says where a volume's data comes from after a rollback: the
// volume in use now (the zero value, KeepCurrent) or a new volume
// provisioned from a snapshot (FromSnapshot).
type DataSource struct {
	SnapshotID string // "" means "current"
}

// KeepCurrent keeps the volume in use now (the default).
var KeepCurrent = DataSource{}

// FromSnapshot provisions a new volume from the registered snapshot id.
func FromSnapshot(id string) DataSource { return DataSource{SnapshotID: id} }

func (d DataSource) MarshalJSON() ([]byte, error) {
	if d.SnapshotID == "" {
		return []byte(`"current"`), nil
	}
	return json.Marshal(map[string]string{"snapshot": d.SnapshotID})
}

func (d *DataSource) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		d.SnapshotID = "" // "current"
		return nil
	}
	var o struct {
		Snapshot string `json:"snapshot"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	d.SnapshotID = o.Snapshot
	return nil
}

// PlanRequest tunes a rollback plan; nil means defaults.
type PlanRequest struct {
	// Data maps a volume name of the target version to its data source.
	Data  map[string]DataSource `json:"data,omitempty"`
	Scope string                `json:"scope,omitempty"` // ScopeTracked (default) or ScopeAll
	// Categories, when non-nil, make a partial rollback: only these
	// categories are taken from the target, everything else stays as it is
	// now (image, codeVersion, env, ports, securityContext, cpu, memory,
	// command, args, instances, mounts, configValues, secretValues). It is
	// sent as the request's "scope" array, so Scope must then be "". The
	// committed version's Scope records it.
	Categories []string `json:"-"`
}

func (r PlanRequest) MarshalJSON() ([]byte, error) {
	type plain PlanRequest
	if r.Categories == nil {
		return json.Marshal(plain(r))
	}
	if r.Scope != "" {
		return nil, errors.New("set Scope or Categories, not both")
	}
	return json.Marshal(struct {
		plain
		Scope []string `json:"scope"`
	}{plain(r), r.Categories})
}

// Volume data sources in a PlanVolume.
const (
	SourceCurrent  = "current"
	SourceSnapshot = "snapshot"
)

// PlanVolume says what a plan does with one volume.
type PlanVolume struct {
	Volume     string     `json:"volume"` // the volume's name in the state
	Mounts     []string   `json:"mounts"` // its mount paths
	Source     string     `json:"source"` // SourceCurrent or SourceSnapshot
	SnapshotID string     `json:"snapshotId"`
	VolumeID   string     `json:"volumeId"`  // the volumeId bound in the resulting state
	NewVolume  *NewVolume `json:"newVolume"` // set when Source is SourceSnapshot
}

// NewVolume is a volume the host must provision from a snapshot.
type NewVolume struct {
	Name                 string  `json:"name"`
	SizeBytes            int64   `json:"sizeBytes"`
	StorageClass         string  `json:"storageClass"`
	Copies               int64   `json:"copies"` // instances for dedicated volumes, else 1
	EstimatedMonthlyCost float64 `json:"estimatedMonthlyCost"`
	Currency             string  `json:"currency"`
}

// Step actions of a plan, in the order the host runs them.
const (
	ActionProvisionVolume = "provisionVolume"
	ActionApplyState      = "applyState"
	ActionReportStatus    = "reportStatus"
)

// Step is one thing the host does to carry out a plan.
type Step struct {
	Action       string `json:"action"`
	Description  string `json:"description"`
	Version      int64  `json:"version,omitempty"`      // applyState, reportStatus
	Volume       string `json:"volume,omitempty"`       // provisionVolume
	NewVolume    string `json:"newVolume,omitempty"`    // provisionVolume
	FromSnapshot string `json:"fromSnapshot,omitempty"` // provisionVolume
	SizeBytes    int64  `json:"sizeBytes,omitempty"`    // provisionVolume
	StorageClass string `json:"storageClass,omitempty"` // provisionVolume
}

// Plan is a rollback plan. It is a value: commit it unchanged with
// Store.Commit, which sends Raw — the library's own JSON — back byte for
// byte (the library verifies its digest). Marshalling a Plan to JSON yields
// Raw, and unmarshalling stores the input in Raw, so a plan can be kept or
// sent elsewhere and committed later.
type Plan struct {
	PlanID               string          `json:"planId"`
	Spinner              string          `json:"spinner"`
	BaseVersion          int64           `json:"baseVersion"`   // current when planned
	TargetVersion        int64           `json:"targetVersion"` // the version restored
	Request              json.RawMessage `json:"request"`
	State                json.RawMessage `json:"state"` // resulting state, secret values masked
	Diff                 Diff            `json:"diff"`  // current → resulting state
	Summary              string          `json:"summary"`
	Volumes              []PlanVolume    `json:"volumes"`
	Steps                []Step          `json:"steps"`
	Warnings             []string        `json:"warnings"`
	RequiresConfirmation bool            `json:"requiresConfirmation"`
	ResultDigest         string          `json:"resultDigest"`
	Digest               string          `json:"digest"`

	// Raw is the plan exactly as the library returned it.
	Raw json.RawMessage `json:"-"`
}

func (p *Plan) UnmarshalJSON(b []byte) error {
	type plain Plan
	var aux plain
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*p = Plan(aux)
	p.Raw = append(json.RawMessage(nil), b...)
	return nil
}

func (p Plan) MarshalJSON() ([]byte, error) {
	if len(p.Raw) > 0 {
		return p.Raw, nil
	}
	type plain Plan
	return json.Marshal(plain(p))
}

// Scope returns what the plan takes from its target version (from its
// Request): ScopeTracked, ScopeAll, or the Categories of a partial rollback.
func (p *Plan) Scope() RollbackScope {
	var req struct {
		Scope *RollbackScope `json:"scope"`
	}
	if json.Unmarshal(p.Request, &req) != nil || req.Scope == nil {
		return RollbackScope{Name: ScopeTracked}
	}
	return *req.Scope
}

// ParsePlan decodes a plan kept as JSON (e.g. from Plan.Raw) for Store.Commit.
func ParsePlan(raw []byte) (*Plan, error) {
	var p Plan
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, invalidArg("ParsePlan", "plan", "not a plan: %v", err)
	}
	return &p, nil
}

// RotateOptions tune Store.RotateKey; nil means the defaults.
type RotateOptions struct {
	// Reseal also makes a new data key and re-seals every secret value
	// under it, in batches (one transaction each); a call after a crash
	// resumes where the last batch ended.
	Reseal bool `json:"reseal,omitempty"`
	// BatchSize is how many secret values one transaction re-seals
	// (1-100000; 0 = library default, 500).
	BatchSize int `json:"batchSize,omitempty"`
}

// RotateResult is what Store.RotateKey returns.
type RotateResult struct {
	// KeyID is the ID of the key that now wraps the store's keys ("" for a
	// single Key or KeyFile).
	KeyID     string `json:"keyId"`
	Rewrapped int64  `json:"rewrapped"` // wrapped keys rewritten (0: the store holds no secret)
	Resealed  int64  `json:"resealed"`  // secret values re-sealed by this call
	Resumed   bool   `json:"resumed"`   // it continued an interrupted reseal
}

// BundleOptions give the export key of a bundle (Store.Export,
// Store.Import): Key (64 hex digits or base64 of 32 bytes) or KeyFile. It
// seals the bundle's secret values, so it is needed when an exported version
// holds one; nil means no key.
type BundleOptions struct {
	Key     string `json:"key,omitempty"`
	KeyFile string `json:"keyFile,omitempty"`
}

// ImportResult is what Store.Import returns. A spinner already in the store
// with the same history is skipped, as is a snapshot already registered
// under the same id: importing twice imports nothing the second time.
type ImportResult struct {
	SourceStoreID     string `json:"sourceStoreId"` // the StoreInfo.StoreID the bundle came from
	SpinnersImported  int64  `json:"spinnersImported"`
	SpinnersSkipped   int64  `json:"spinnersSkipped"`
	VersionsImported  int64  `json:"versionsImported"`
	VersionsSkipped   int64  `json:"versionsSkipped"`
	SnapshotsImported int64  `json:"snapshotsImported"`
	SnapshotsSkipped  int64  `json:"snapshotsSkipped"`
}

// MigrateResult is what Store.Migrate returns.
type MigrateResult struct {
	TargetStoreID    string       `json:"targetStoreId"`
	VersionsVerified int64        `json:"versionsVerified"` // versions read back and compared
	Imported         ImportResult `json:"imported"`
}

// SpinnerInfo holds facts about one spinner.
type SpinnerInfo struct {
	Spinner         string `json:"spinner"`
	RollbackEnabled bool   `json:"rollbackEnabled"`
	HistoryLimit    int64  `json:"historyLimit"`
	CurrentVersion  int64  `json:"currentVersion"` // 0 when no version exists
	VersionsCreated int64  `json:"versionsCreated"`
	LastRecordedAt  string `json:"lastRecordedAt"` // RFC 3339
}

// StoreInfo describes the store itself.
type StoreInfo struct {
	StoreID        string `json:"storeId"` // a UUID made with the store, kept by migrations
	Engine         string `json:"engine"`  // "sqlite" or "postgres"
	SchemaVersion  int64  `json:"schemaVersion"`
	LibraryVersion string `json:"libraryVersion"`
}

// Snapshot is a volume snapshot the host made and registers with the store.
type Snapshot struct {
	ID           string          `json:"id"`
	Volume       string          `json:"volume"` // the volumeId it was taken of
	SizeBytes    int64           `json:"sizeBytes"`
	CreatedAt    time.Time       `json:"createdAt,omitzero"` // zero = now; sent as UTC, milliseconds
	Ready        bool            `json:"ready"`
	StorageClass string          `json:"storageClass,omitempty"`
	Metadata     json.RawMessage `json:"metadata,omitempty"` // a JSON object, free-form
}

// MarshalJSON sends CreatedAt in one fixed form, UTC with milliseconds like
// the library's own timestamps ("2026-01-02T03:04:05.000Z"): the library
// orders snapshot listings by the createdAt text, so mixed offsets or
// precisions would list out of order.
func (s Snapshot) MarshalJSON() ([]byte, error) {
	type plain Snapshot
	aux := struct {
		plain
		CreatedAt string `json:"createdAt,omitempty"`
	}{plain: plain(s)}
	if !s.CreatedAt.IsZero() {
		aux.CreatedAt = s.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return json.Marshal(aux)
}

// PolicyResult is what EvaluatePolicy returns.
type PolicyResult struct {
	Snapshot bool      `json:"snapshot"`
	Outcome  string    `json:"outcome"`
	Reasons  []Trigger `json:"reasons"`
}

// Event types (Event.Type). Later library releases may add types: skip the
// ones you do not know.
const (
	EventVersionCreated     = "version.created"     // Version: the new version; Data: reason, digest, summary (rollbackOf, scope)
	EventRollbackCommitted  = "rollback.committed"  // Version: the new version; Data: target, scope, planId
	EventStatusChanged      = "status.changed"      // Data: status
	EventTagSet             = "tag.set"             // Data: name, author (movedFrom)
	EventTagRemoved         = "tag.removed"         // Data: name
	EventNoteAdded          = "note.added"          // Data: author, text
	EventSnapshotRegistered = "snapshot.registered" // Spinner "", Version nil; Data: id, volume, createdAt, ready
	EventSnapshotDeleted    = "snapshot.deleted"    // Spinner "", Version nil; Data: id
	EventRollbackEnabled    = "rollback.enabled"    // Version nil
	EventRollbackDisabled   = "rollback.disabled"   // Version nil
	EventVersionsPruned     = "versions.pruned"     // Version nil; Data: numbers
	EventSpinnerImported    = "spinner.imported"    // Version: its current version (or nil); Data: versions, sourceStoreId
	EventStoreKeyRotated    = "store.key_rotated"   // Spinner "", Version nil; Data: keyId, reseal
)

// Event is one entry of the store's outbox (Store.Events). Seq numbers
// events gap-free in commit order, store-wide; At is when the change was
// committed. Data holds the type's own fields (docs/events.md) and never a
// secret value.
type Event struct {
	Seq     int64           `json:"seq"`
	At      time.Time       `json:"at"`
	Type    string          `json:"type"`    // one of the Event* constants
	Spinner string          `json:"spinner"` // "" for snapshot events (null in JSON)
	Version *int64          `json:"version"` // the version the event is about, else nil
	Data    json.RawMessage `json:"data"`    // a JSON object
}

// EventPage is what Store.Events and Store.WaitEvents return: events oldest
// first, and Next, the after to ask with for the following page (the last
// event's Seq, or the after asked with when the page is empty).
type EventPage struct {
	// StoreID is the identity of the store the events belong to
	// (StoreInfo.StoreID): a reader that keeps Next to resume can check
	// that it still reads the same store.
	StoreID string  `json:"storeId"`
	Events  []Event `json:"events"`
	Next    int64   `json:"next"`
}
