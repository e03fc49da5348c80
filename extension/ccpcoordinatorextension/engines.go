package ccpcoordinatorextension

import (
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The two coordination engines: etcd v3 (elections from its concurrency package) and
// Kubernetes coordination.k8s.io/v1 Leases through client-go.
var (
	_ = clientv3.New
	_ = concurrency.NewElection
	_ coordinationv1.Lease
	_ metav1.ObjectMeta
	_ kubernetes.Interface
)
