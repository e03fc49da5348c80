package ccpcoordinatorextension

import (
	"context"
	"fmt"
	"os"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// newEtcdClient creates the etcd client; it connects lazily, so an unreachable cluster does
// not fail the collector's start.
func newEtcdClient(ctx context.Context, ec *EtcdConfig, logger *zap.Logger) (*clientv3.Client, error) {
	cfg := clientv3.Config{
		Endpoints:   ec.Endpoints,
		DialTimeout: ec.DialTimeout,
		Username:    ec.Username,
		Password:    string(ec.Password),
		// The client logs every retried call; the coordinator reports what matters.
		Logger: logger.Named("etcd").WithOptions(zap.IncreaseLevel(zap.ErrorLevel)),
	}
	if ec.TLS.HasValue() {
		tlsCfg, err := ec.TLS.Get().LoadTLSConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("etcd::tls: %w", err)
		}
		cfg.TLS = tlsCfg
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("etcd client for %v: %w", ec.Endpoints, err)
	}
	return cli, nil
}

const serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// newLeaseClient builds the Leases client of the configured namespace.
func newLeaseClient(kc *KubernetesConfig) (leaseAPI, error) {
	var restCfg *rest.Config
	namespace := kc.Namespace
	switch kc.AuthType {
	case AuthKubeConfig:
		loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(clientcmd.NewDefaultClientConfigLoadingRules(), &clientcmd.ConfigOverrides{})
		cfg, err := loader.ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("kubernetes::auth_type kubeConfig: %w", err)
		}
		restCfg = cfg
		if namespace == "" {
			if namespace, _, err = loader.Namespace(); err != nil {
				return nil, fmt.Errorf("kubernetes::namespace from kubeconfig: %w", err)
			}
		}
	default:
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("kubernetes::auth_type serviceAccount needs to run in a pod (or use kubeConfig): %w", err)
		}
		restCfg = cfg
		if namespace == "" {
			namespace = podNamespace()
		}
	}
	if namespace == "" {
		return nil, fmt.Errorf("kubernetes::namespace: not set and the pod's namespace is unknown; set it or POD_NAMESPACE")
	}
	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return cs.CoordinationV1().Leases(namespace), nil
}

// podNamespace is POD_NAMESPACE, or the service account's namespace file.
func podNamespace() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	b, err := os.ReadFile(serviceAccountNamespace)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
