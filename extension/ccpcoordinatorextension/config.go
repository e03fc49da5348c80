package ccpcoordinatorextension

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
)

// Config configures the ccp_coordinator extension: exactly one of etcd or kubernetes.
type Config struct {
	// Etcd elects leaders and keeps connector state in an etcd v3 cluster.
	Etcd configoptional.Optional[EtcdConfig] `mapstructure:"etcd"`
	// Kubernetes elects leaders with coordination.k8s.io/v1 Leases and keeps connector state in
	// an annotation of each connector's Lease.
	Kubernetes configoptional.Optional[KubernetesConfig] `mapstructure:"kubernetes"`

	// Identity names this replica in leases, logs and status; unique per replica. Default:
	// hostname_pid.
	Identity string `mapstructure:"identity"`
	// LeaseDuration is how long a lease stays valid without renewal: after it another replica
	// may take over (etcd rounds it up to whole seconds). Default 15s.
	LeaseDuration time.Duration `mapstructure:"lease_duration"`
	// RenewDeadline is how long the leader keeps trying to renew before it gives the connector
	// up (stops polling); shorter than LeaseDuration so it stops before a takeover. Default 10s.
	RenewDeadline time.Duration `mapstructure:"renew_deadline"`
	// RetryPeriod is the pause between renewals and between campaign attempts. Default 2s.
	RetryPeriod time.Duration `mapstructure:"retry_period"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// EtcdConfig selects the etcd v3 backend.
type EtcdConfig struct {
	// Endpoints are the cluster's client URLs or host:port pairs.
	Endpoints []string `mapstructure:"endpoints"`
	// Prefix is put in front of every key this extension writes. Default /otelcol-ccp/.
	Prefix string `mapstructure:"prefix"`
	// TLS enables TLS (configtls client settings); absent means plain text.
	TLS configoptional.Optional[configtls.ClientConfig] `mapstructure:"tls"`
	// Username and Password authenticate with etcd's own user store.
	Username string              `mapstructure:"username"`
	Password configopaque.String `mapstructure:"password"`
	// DialTimeout bounds one connection attempt. Default 5s.
	DialTimeout time.Duration `mapstructure:"dial_timeout"`
}

// Auth types of the kubernetes backend.
const (
	AuthServiceAccount = "serviceAccount"
	AuthKubeConfig     = "kubeConfig"
)

// KubernetesConfig selects the Kubernetes Lease backend.
type KubernetesConfig struct {
	// Namespace holds the Leases. Default: the pod's namespace (service account) or the
	// kubeconfig context's namespace.
	Namespace string `mapstructure:"namespace"`
	// LeasePrefix starts every Lease name. Default otelcol-ccp-.
	LeasePrefix string `mapstructure:"lease_prefix"`
	// AuthType is serviceAccount (in cluster, the default) or kubeConfig (KUBECONFIG or
	// ~/.kube/config).
	AuthType string `mapstructure:"auth_type"`
}

var _ component.Config = (*Config)(nil)

func createDefaultConfig() component.Config {
	return &Config{
		Etcd: configoptional.Default(EtcdConfig{
			Prefix:      "/otelcol-ccp/",
			DialTimeout: 5 * time.Second,
		}),
		Kubernetes: configoptional.Default(KubernetesConfig{
			LeasePrefix: "otelcol-ccp-",
			AuthType:    AuthServiceAccount,
		}),
		LeaseDuration: 15 * time.Second,
		RenewDeadline: 10 * time.Second,
		RetryPeriod:   2 * time.Second,
	}
}

// Validate names the field at fault and how to fix it.
func (c *Config) Validate() error {
	var errs []error
	switch {
	case c.Etcd.HasValue() && c.Kubernetes.HasValue():
		errs = append(errs, errors.New("etcd and kubernetes are both set: keep exactly one backend"))
	case !c.Etcd.HasValue() && !c.Kubernetes.HasValue():
		errs = append(errs, errors.New("no backend: set etcd (endpoints: [host:2379]) or kubernetes (auth_type: serviceAccount)"))
	case c.Etcd.HasValue():
		errs = append(errs, c.Etcd.Get().validate()...)
	default:
		errs = append(errs, c.Kubernetes.Get().validate()...)
	}
	errs = append(errs, c.validateTiming()...)
	return errors.Join(errs...)
}

func (c *Config) validateTiming() []error {
	var errs []error
	if c.RetryPeriod <= 0 {
		errs = append(errs, errors.New("retry_period: must be positive (default 2s)"))
	}
	if c.RenewDeadline <= c.RetryPeriod {
		errs = append(errs, fmt.Errorf("renew_deadline (%s) must be longer than retry_period (%s): the leader renews several times before it gives up", c.RenewDeadline, c.RetryPeriod))
	}
	if c.LeaseDuration <= c.RenewDeadline {
		errs = append(errs, fmt.Errorf("renew_deadline (%s) must be shorter than lease_duration (%s): a leader that cannot renew must stop polling before another replica can take its lease over", c.RenewDeadline, c.LeaseDuration))
	}
	if c.Etcd.HasValue() && c.LeaseDuration < time.Second {
		errs = append(errs, errors.New("lease_duration: etcd leases last whole seconds, use at least 1s"))
	}
	if strings.ContainsAny(c.Identity, "\n\r") {
		errs = append(errs, errors.New("identity: must be one line"))
	}
	return errs
}

func (e *EtcdConfig) validate() []error {
	var errs []error
	if len(e.Endpoints) == 0 {
		errs = append(errs, errors.New("etcd::endpoints: list at least one etcd endpoint, e.g. [127.0.0.1:2379]"))
	}
	if e.Prefix == "" {
		errs = append(errs, errors.New("etcd::prefix: must not be empty (default /otelcol-ccp/)"))
	}
	if e.Password != "" && e.Username == "" {
		errs = append(errs, errors.New("etcd::password is set without etcd::username: set both or neither"))
	}
	if e.DialTimeout < 0 {
		errs = append(errs, errors.New("etcd::dial_timeout: must not be negative"))
	}
	return errs
}

func (k *KubernetesConfig) validate() []error {
	var errs []error
	switch k.AuthType {
	case AuthServiceAccount, AuthKubeConfig:
	default:
		errs = append(errs, fmt.Errorf("kubernetes::auth_type %q: use %s (in cluster) or %s", k.AuthType, AuthServiceAccount, AuthKubeConfig))
	}
	if k.LeasePrefix == "" || !validLeasePrefix(k.LeasePrefix) {
		errs = append(errs, fmt.Errorf("kubernetes::lease_prefix %q: use lower-case letters, digits and '-' (at most 40), e.g. otelcol-ccp-", k.LeasePrefix))
	}
	return errs
}

func validLeasePrefix(p string) bool {
	if len(p) > 40 || p[0] == '-' {
		return false
	}
	for _, r := range p {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// identity is the configured one, or hostname_pid.
func (c *Config) identity() string {
	if c.Identity != "" {
		return c.Identity
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return fmt.Sprintf("%s_%d", host, os.Getpid())
}
