package ccpcoordinatorextension

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/otelcol-ccp/otelcol-ccp/internal/coordination"
)

// etcdEngine elects with etcd's concurrency package. Each term has its own lease (TTL =
// lease_duration) and election key; every state write is a transaction conditioned on that
// key's create revision, so it fails once the key expired or was deleted, whoever leads now.
//
// Keys under prefix:
//
//	election/<connector>/<lease>  the election (concurrency.Election), value = identity
//	state/<connector>/<key>       the connector's state
//	members/<identity>            presence, on this replica's member lease
type etcdEngine struct {
	cli      *clientv3.Client
	prefix   string
	identity string
	ttl      int64 // seconds

	mu          sync.Mutex
	member      clientv3.LeaseID // 0: none yet or expired
	memberAlive <-chan *clientv3.LeaseKeepAliveResponse
	published   string // last presence value put on the current member lease
	stopMember  context.CancelFunc
}

func newEtcdEngine(cli *clientv3.Client, prefix, identity string, leaseDuration time.Duration) *etcdEngine {
	ttl := int64((leaseDuration + time.Second - 1) / time.Second)
	return &etcdEngine{cli: cli, prefix: prefix, identity: identity, ttl: max(ttl, 1)}
}

func (e *etcdEngine) electionPrefix(connector string) string {
	return e.prefix + "election/" + url.PathEscape(connector) + "/"
}

func (e *etcdEngine) stateKey(connector, key string) string {
	return e.prefix + "state/" + url.PathEscape(connector) + "/" + key
}

func (e *etcdEngine) memberKey() string { return e.prefix + "members/" + url.PathEscape(e.identity) }

// publish keeps this replica's member key on a lease of its own, renewed by the client;
// a new lease (and put) after it expired.
func (e *etcdEngine) publish(ctx context.Context, self member) error {
	value, err := json.Marshal(self)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.member != 0 && e.memberExpiredLocked() {
		e.member, e.published = 0, ""
	}
	if e.member == 0 {
		lease, err := e.cli.Grant(ctx, e.ttl)
		if err != nil {
			return err
		}
		kctx, cancel := context.WithCancel(context.Background())
		alive, err := e.cli.KeepAlive(kctx, lease.ID)
		if err != nil {
			cancel()
			return err
		}
		e.member, e.memberAlive, e.stopMember = lease.ID, alive, cancel
	}
	if e.published == string(value) {
		return nil
	}
	if _, err := e.cli.Put(ctx, e.memberKey(), string(value), clientv3.WithLease(e.member)); err != nil {
		return err
	}
	e.published = string(value)
	return nil
}

// memberExpiredLocked drains keep-alive answers; a closed channel means the lease is gone.
func (e *etcdEngine) memberExpiredLocked() bool {
	for {
		select {
		case _, ok := <-e.memberAlive:
			if !ok {
				e.stopMember()
				return true
			}
		default:
			return false
		}
	}
}

func (e *etcdEngine) members(ctx context.Context) ([]member, error) {
	resp, err := e.cli.Get(ctx, e.prefix+"members/", clientv3.WithPrefix())
	if err != nil {
		return nil, err
	}
	out := make([]member, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var m member
		if json.Unmarshal(kv.Value, &m) == nil && m.Identity != "" {
			out = append(out, m)
		}
	}
	return out, nil
}

func (e *etcdEngine) leader(ctx context.Context, connector string) (string, error) {
	resp, err := e.cli.Get(ctx, e.electionPrefix(connector), clientv3.WithFirstCreate()...)
	if err != nil {
		return "", err
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}

// tryLead campaigns for at most wait on a fresh lease; a campaign that did not win withdraws
// its key and revokes the lease.
func (e *etcdEngine) tryLead(ctx context.Context, connector string, wait time.Duration) (hold, error) {
	gctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	lease, err := e.cli.Grant(gctx, e.ttl)
	if err != nil {
		return nil, err
	}
	sess, err := concurrency.NewSession(e.cli, concurrency.WithLease(lease.ID), concurrency.WithTTL(int(e.ttl)))
	if err != nil {
		e.revoke(lease.ID)
		return nil, err
	}
	el := concurrency.NewElection(sess, e.electionPrefix(connector))
	// Campaign cleans up a lost attempt with the client's own context, which can hang while the
	// store is unreachable: wait for it a little longer than the attempt, then leave it.
	result := make(chan error, 1)
	go func() {
		err := el.Campaign(gctx, e.identity)
		if err != nil {
			sess.Orphan()
			e.revoke(lease.ID)
		}
		result <- err
	}()
	select {
	case err = <-result:
	case <-time.After(wait + time.Second):
		go func() {
			if <-result == nil { // won after all, with nobody to use it
				(&etcdHold{e: e, connector: connector, sess: sess, key: el.Key(), rev: el.Rev()}).releaseSoon()
			}
		}()
		return nil, gctx.Err()
	}
	if err == nil {
		return &etcdHold{e: e, connector: connector, sess: sess, key: el.Key(), rev: el.Rev()}, nil
	}
	if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return nil, nil // another replica leads
	}
	return nil, err
}

// revoke ends a lease at once, best effort: unrevoked, it expires after its TTL.
func (e *etcdEngine) revoke(id clientv3.LeaseID) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(e.ttl)*time.Second/2)
	defer cancel()
	_, _ = e.cli.Revoke(ctx, id)
}

func (e *etcdEngine) close(context.Context) error {
	e.mu.Lock()
	id := e.member
	if e.stopMember != nil {
		e.stopMember()
	}
	e.member = 0
	e.mu.Unlock()
	if id != 0 {
		e.revoke(id)
	}
	return e.cli.Close()
}

// etcdHold is one won election: the fencing token is the election key's create revision.
type etcdHold struct {
	e         *etcdEngine
	connector string
	sess      *concurrency.Session
	key       string
	rev       int64
}

func (h *etcdHold) fence() string { return fmt.Sprintf("etcd revision %d", h.rev) }

func (h *etcdHold) held() clientv3.Cmp {
	return clientv3.Compare(clientv3.CreateRevision(h.key), "=", h.rev)
}

// renew extends the lease and proves the election key is still this term's.
func (h *etcdHold) renew(ctx context.Context) error {
	if _, err := h.e.cli.KeepAliveOnce(ctx, h.sess.Lease()); err != nil {
		if errors.Is(err, rpctypes.ErrLeaseNotFound) {
			return fmt.Errorf("%w: the lease expired", errLost)
		}
		return err
	}
	resp, err := h.e.cli.Txn(ctx).If(h.held()).Commit()
	if err != nil {
		return err
	}
	if !resp.Succeeded {
		return fmt.Errorf("%w: the election key is gone", errLost)
	}
	return nil
}

func (h *etcdHold) release(ctx context.Context) error {
	h.sess.Orphan()
	// Deleting the key only if it is still ours; revoking the lease would do too, but the
	// delete reaches the next candidate in one step.
	_, err := h.e.cli.Txn(ctx).If(h.held()).Then(clientv3.OpDelete(h.key)).Commit()
	if _, rerr := h.e.cli.Revoke(ctx, h.sess.Lease()); err == nil && rerr != nil && !errors.Is(rerr, rpctypes.ErrLeaseNotFound) {
		err = rerr
	}
	return err
}

func (h *etcdHold) releaseSoon() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(h.e.ttl)*time.Second)
	defer cancel()
	_ = h.release(ctx)
}

func (h *etcdHold) get(ctx context.Context, key string) ([]byte, error) {
	resp, err := h.e.cli.Get(ctx, h.e.stateKey(h.connector, key))
	if err != nil {
		return nil, err
	}
	if len(resp.Kvs) == 0 {
		return nil, nil
	}
	return resp.Kvs[0].Value, nil
}

func (h *etcdHold) commit(ctx context.Context, writes []write) error {
	ops := make([]clientv3.Op, 0, len(writes))
	for _, w := range writes {
		k := h.e.stateKey(h.connector, w.key)
		if w.delete {
			ops = append(ops, clientv3.OpDelete(k))
		} else {
			ops = append(ops, clientv3.OpPut(k, string(w.value)))
		}
	}
	resp, err := h.e.cli.Txn(ctx).If(h.held()).Then(ops...).Commit()
	if err != nil {
		return err
	}
	if !resp.Succeeded {
		return fmt.Errorf("%w (connector %s: %s no longer holds the election)", coordination.ErrFenced, h.connector, h.fence())
	}
	return nil
}
