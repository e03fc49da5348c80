package ccpcoordinatorextension

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

const testNamespace = "observability"

// The production timing, on a clock running 10 times faster than real time: the Kubernetes
// backend decides expiry from its clock alone, so the suite exercises the real durations in a
// tenth of the time.
func kubernetesBackend() *backend {
	b := &backend{
		tm:  timing{leaseDuration: 15 * time.Second, renewDeadline: 10 * time.Second, retryPeriod: 2 * time.Second},
		clk: fastClock(10),
	}
	b.env = func(*testing.T) env { return &kubernetesEnv{cs: newConflictingClientset(), b: b} }
	return b
}

func TestConformanceKubernetes(t *testing.T) {
	runConformance(t, kubernetesBackend())
}

// kubernetesEnv is one fake API server (client-go's fake clientset) whose Lease updates are
// refused with 409 Conflict unless they carry the stored resourceVersion, as a real API
// server does.
type kubernetesEnv struct {
	cs *fake.Clientset
	b  *backend
}

func newConflictingClientset() *fake.Clientset {
	cs := fake.NewClientset()
	tracker := cs.Tracker()
	gvr := coordinationv1.SchemeGroupVersion.WithResource("leases")
	var mu sync.Mutex
	var version int64
	cs.PrependReactor("create", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		l := a.(k8stesting.CreateAction).GetObject().(*coordinationv1.Lease).DeepCopy()
		version++
		l.ResourceVersion = strconv.FormatInt(version, 10)
		if err := tracker.Create(gvr, l, a.GetNamespace()); err != nil {
			return true, nil, err
		}
		return true, l, nil
	})
	cs.PrependReactor("update", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		l := a.(k8stesting.UpdateAction).GetObject().(*coordinationv1.Lease).DeepCopy()
		cur, err := tracker.Get(gvr, a.GetNamespace(), l.Name)
		if err != nil {
			return true, nil, err
		}
		if cur.(*coordinationv1.Lease).ResourceVersion != l.ResourceVersion {
			return true, nil, apierrors.NewConflict(gvr.GroupResource(), l.Name, errors.New("the object has been modified"))
		}
		version++
		l.ResourceVersion = strconv.FormatInt(version, 10)
		if err := tracker.Update(gvr, l, a.GetNamespace()); err != nil {
			return true, nil, err
		}
		return true, l, nil
	})
	return cs
}

func (e *kubernetesEnv) engine(_ *testing.T, identity string) (engine, func(bool)) {
	api := &cuttableLeases{leaseAPI: e.cs.CoordinationV1().Leases(testNamespace)}
	return newK8sEngine(api, "otelcol-ccp-", identity, e.b.clk, e.b.tm.leaseDuration), func(cut bool) { api.cut.Store(cut) }
}

// cuttableLeases fails every call while cut, like an API server this replica cannot reach.
type cuttableLeases struct {
	leaseAPI
	cut atomic.Bool
}

var errUnreachable = errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")

func (c *cuttableLeases) Get(ctx context.Context, name string, o metav1.GetOptions) (*coordinationv1.Lease, error) {
	if c.cut.Load() {
		return nil, errUnreachable
	}
	return c.leaseAPI.Get(ctx, name, o)
}

func (c *cuttableLeases) Create(ctx context.Context, l *coordinationv1.Lease, o metav1.CreateOptions) (*coordinationv1.Lease, error) {
	if c.cut.Load() {
		return nil, errUnreachable
	}
	return c.leaseAPI.Create(ctx, l, o)
}

func (c *cuttableLeases) Update(ctx context.Context, l *coordinationv1.Lease, o metav1.UpdateOptions) (*coordinationv1.Lease, error) {
	if c.cut.Load() {
		return nil, errUnreachable
	}
	return c.leaseAPI.Update(ctx, l, o)
}

func (c *cuttableLeases) List(ctx context.Context, o metav1.ListOptions) (*coordinationv1.LeaseList, error) {
	if c.cut.Load() {
		return nil, errUnreachable
	}
	return c.leaseAPI.List(ctx, o)
}

// The fake API server of the suite refuses a stale resourceVersion (what makes the
// Kubernetes backend's writes fenced).
func TestConflictingClientsetRefusesStaleUpdates(t *testing.T) {
	leases := newConflictingClientset().CoordinationV1().Leases(testNamespace)
	created, err := leases.Create(context.Background(), &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "l"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	first := created.DeepCopy()
	first.Annotations = map[string]string{"a": "1"}
	_, err = leases.Update(context.Background(), first, metav1.UpdateOptions{})
	require.NoError(t, err)
	stale := created.DeepCopy()
	stale.Annotations = map[string]string{"a": "0"}
	_, err = leases.Update(context.Background(), stale, metav1.UpdateOptions{})
	assert.True(t, apierrors.IsConflict(err), "got %v", err)
	got, err := leases.Get(context.Background(), "l", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "1", got.Annotations["a"])
}
