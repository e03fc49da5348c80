package ccpcoordinatorextension

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/otelcol-ccp/otelcol-ccp/internal/coordination"
)

// leaseAPI is the part of client-go's LeaseInterface this backend uses.
type leaseAPI interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*coordinationv1.Lease, error)
	Create(ctx context.Context, lease *coordinationv1.Lease, opts metav1.CreateOptions) (*coordinationv1.Lease, error)
	Update(ctx context.Context, lease *coordinationv1.Lease, opts metav1.UpdateOptions) (*coordinationv1.Lease, error)
	List(ctx context.Context, opts metav1.ListOptions) (*coordinationv1.LeaseList, error)
}

// Labels and annotations of the Leases this backend writes.
const (
	labelRole           = "otelcol-ccp/role"
	labelGroup          = "otelcol-ccp/group"
	annotationConnector = "otelcol-ccp/connector"
	annotationState     = "otelcol-ccp/state"
	annotationMembers   = "otelcol-ccp/member"
)

// k8sEngine elects with one coordination.k8s.io/v1 Lease per connector. The connector's state
// lives in an annotation of that same Lease, so a state write is an update of the Lease under
// optimistic concurrency (resourceVersion) after checking the holder and the lease
// transitions: a replica that lost the Lease cannot write, and every write of the holder is
// ordered with the takeover. Expiry is judged as client-go does: a Lease whose
// resourceVersion did not change for its duration, as seen by this replica's clock.
type k8sEngine struct {
	api      leaseAPI
	prefix   string
	identity string
	clk      *clock
	seconds  int32

	mu       sync.Mutex
	observed map[string]observation
}

type observation struct {
	rv string
	at time.Time
}

func newK8sEngine(api leaseAPI, prefix, identity string, clk *clock, leaseDuration time.Duration) *k8sEngine {
	secs := int32((leaseDuration + time.Second - 1) / time.Second)
	return &k8sEngine{api: api, prefix: prefix, identity: identity, clk: clk, seconds: max(secs, 1), observed: map[string]observation{}}
}

// leaseName is prefix + a DNS-safe form of name + a hash that keeps distinct names apart.
func (k *k8sEngine) leaseName(kind, name string) string {
	sum := sha256.Sum256([]byte(name))
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if b.Len() >= 40 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return fmt.Sprintf("%s%s%s-%s", k.prefix, kind, strings.Trim(b.String(), "-"), hex.EncodeToString(sum[:4]))
}

func (k *k8sEngine) group() string { return strings.Trim(k.prefix, "-") }

// expired tells whether the lease's record has not changed for its duration, as observed here.
func (k *k8sEngine) expired(l *coordinationv1.Lease) bool {
	now := k.clk.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	o, seen := k.observed[l.Name]
	if !seen || o.rv != l.ResourceVersion {
		k.observed[l.Name] = observation{rv: l.ResourceVersion, at: now}
		return false
	}
	secs := int32(1)
	if l.Spec.LeaseDurationSeconds != nil {
		secs = *l.Spec.LeaseDurationSeconds
	}
	return now.Sub(o.at) > time.Duration(secs)*time.Second
}

func holder(l *coordinationv1.Lease) string {
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

func transitions(l *coordinationv1.Lease) int32 {
	if l.Spec.LeaseTransitions == nil {
		return 0
	}
	return *l.Spec.LeaseTransitions
}

// claim makes the record this replica's for a new term.
func (k *k8sEngine) claim(l *coordinationv1.Lease, trans int32) {
	now := metav1.NewMicroTime(k.clk.Now())
	id, secs := k.identity, k.seconds
	l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds = &id, &secs
	l.Spec.LeaseTransitions = &trans
	l.Spec.AcquireTime, l.Spec.RenewTime = &now, &now
}

func (k *k8sEngine) tryLead(ctx context.Context, connector string, _ time.Duration) (hold, error) {
	name := k.leaseName("", connector)
	l, err := k.api.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		l = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Labels:      map[string]string{labelRole: "connector", labelGroup: k.group()},
			Annotations: map[string]string{annotationConnector: connector},
		}}
		k.claim(l, 0)
		_, err := k.api.Create(ctx, l, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return &k8sHold{k: k, name: name, connector: connector, transitions: 0}, nil
	}
	if err != nil {
		return nil, err
	}
	if h := holder(l); h != "" && !k.expired(l) {
		return nil, nil
	}
	// Free or expired: take it over, counting a transition even when this identity held it
	// (every term has its own fence).
	trans := transitions(l) + 1
	k.claim(l, trans)
	_, err = k.api.Update(ctx, l, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		return nil, nil // someone else moved first
	}
	if err != nil {
		return nil, err
	}
	return &k8sHold{k: k, name: name, connector: connector, transitions: trans}, nil
}

func (k *k8sEngine) leader(ctx context.Context, connector string) (string, error) {
	l, err := k.api.Get(ctx, k.leaseName("", connector), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if h := holder(l); h != "" && !k.expired(l) {
		return h, nil
	}
	return "", nil
}

// publish renews this replica's member Lease (named after its identity).
func (k *k8sEngine) publish(ctx context.Context, self member) error {
	value, err := json.Marshal(self)
	if err != nil {
		return err
	}
	name := k.leaseName("member-", k.identity)
	l, err := k.api.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		l = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Labels:      map[string]string{labelRole: "member", labelGroup: k.group()},
			Annotations: map[string]string{annotationMembers: string(value)},
		}}
		k.claim(l, 0)
		_, err = k.api.Create(ctx, l, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	l.Annotations[annotationMembers] = string(value)
	k.claim(l, transitions(l))
	_, err = k.api.Update(ctx, l, metav1.UpdateOptions{})
	return err
}

func (k *k8sEngine) members(ctx context.Context) ([]member, error) {
	list, err := k.api.List(ctx, metav1.ListOptions{LabelSelector: labelRole + "=member," + labelGroup + "=" + k.group()})
	if err != nil {
		return nil, err
	}
	var out []member
	for i := range list.Items {
		l := &list.Items[i]
		if holder(l) == "" || k.expired(l) {
			continue
		}
		var m member
		_ = json.Unmarshal([]byte(l.Annotations[annotationMembers]), &m)
		m.Identity = holder(l)
		out = append(out, m)
	}
	return out, nil
}

// close gives this replica's member Lease up so that others count one replica less at once.
func (k *k8sEngine) close(ctx context.Context) error {
	l, err := k.api.Get(ctx, k.leaseName("member-", k.identity), metav1.GetOptions{})
	if err != nil {
		return nil // nothing to give up, or unreachable: it expires
	}
	l.Spec.HolderIdentity = nil
	_, err = k.api.Update(ctx, l, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// k8sHold is one term on a connector's Lease: the fence is (holder, leaseTransitions).
type k8sHold struct {
	k           *k8sEngine
	name        string
	connector   string
	transitions int32
}

func (h *k8sHold) fence() string {
	return fmt.Sprintf("Lease %s transition %d", h.name, h.transitions)
}

// update re-reads the Lease, checks it is still this term's and applies change, retrying on
// conflicts (this term's own renewals and writes race with each other). notHeld is wrapped in
// the error when the Lease belongs to another term.
func (h *k8sHold) update(ctx context.Context, notHeld error, change func(*coordinationv1.Lease) error) error {
	var err error
	for range 5 {
		var l *coordinationv1.Lease
		l, err = h.k.api.Get(ctx, h.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%w (%s was deleted)", notHeld, h.name)
		}
		if err != nil {
			return err
		}
		if holder(l) != h.k.identity || transitions(l) != h.transitions {
			return fmt.Errorf("%w (%s is now held by %q, transition %d)", notHeld, h.name, holder(l), transitions(l))
		}
		if err = change(l); err != nil {
			return err
		}
		_, err = h.k.api.Update(ctx, l, metav1.UpdateOptions{})
		if err == nil {
			return nil
		}
		if !apierrors.IsConflict(err) {
			return err
		}
	}
	return err
}

func (h *k8sHold) renew(ctx context.Context) error {
	return h.update(ctx, errLost, func(l *coordinationv1.Lease) error {
		now := metav1.NewMicroTime(h.k.clk.Now())
		l.Spec.RenewTime = &now
		return nil
	})
}

func (h *k8sHold) release(ctx context.Context) error {
	err := h.update(ctx, errLost, func(l *coordinationv1.Lease) error {
		l.Spec.HolderIdentity = nil
		return nil
	})
	if errors.Is(err, errLost) {
		return nil // already someone else's
	}
	return err
}

func (h *k8sHold) get(ctx context.Context, key string) ([]byte, error) {
	l, err := h.k.api.Get(ctx, h.name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	state, err := decodeState(l)
	if err != nil {
		return nil, err
	}
	return state[key], nil
}

func (h *k8sHold) commit(ctx context.Context, writes []write) error {
	return h.update(ctx, coordination.ErrFenced, func(l *coordinationv1.Lease) error {
		state, err := decodeState(l)
		if err != nil {
			return err
		}
		for _, w := range writes {
			if w.delete {
				delete(state, w.key)
			} else {
				state[w.key] = w.value
			}
		}
		encoded, err := json.Marshal(state)
		if err != nil {
			return err
		}
		if l.Annotations == nil {
			l.Annotations = map[string]string{}
		}
		l.Annotations[annotationState] = string(encoded)
		return nil
	})
}

// decodeState reads the state annotation: a JSON object of base64 values.
func decodeState(l *coordinationv1.Lease) (map[string][]byte, error) {
	state := map[string][]byte{}
	raw := l.Annotations[annotationState]
	if raw == "" {
		return state, nil
	}
	if err := json.Unmarshal([]byte(raw), &state); err != nil {
		return nil, fmt.Errorf("state annotation of %s is not valid: %w", l.Name, err)
	}
	return state, nil
}
