// Package kubernetes holds the manifests of a highly available deployment; its test decodes
// every manifest into client-go's typed objects and checks what the deployment depends on:
// RBAC limited to Leases, the pod identity wiring, the volumes, and a collector config that the
// distro can run.
package kubernetes

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
)

const namespace = "observability"

// objects are the decoded manifests, by kind.
type objects struct {
	files []string
	sa    *corev1.ServiceAccount
	role  *rbacv1.Role
	rb    *rbacv1.RoleBinding
	cm    *corev1.ConfigMap
	svc   *corev1.Service
	sts   *appsv1.StatefulSet
	pdb   *policyv1.PodDisruptionBudget
}

// load decodes every manifest strictly (an unknown or misspelt field is an error) into the
// typed objects client-go would send, one object per file.
func load(t *testing.T) *objects {
	t.Helper()
	paths, err := filepath.Glob("*.yaml")
	require.NoError(t, err)
	dec := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()
	o := &objects{}
	for _, p := range paths {
		if p == "kustomization.yaml" {
			continue
		}
		raw, err := os.ReadFile(p)
		require.NoError(t, err)
		obj, _, err := dec.Decode(raw, nil, nil)
		require.NoError(t, err, p)
		o.files = append(o.files, p)
		o.put(t, p, obj)
	}
	return o
}

func (o *objects) put(t *testing.T, path string, obj runtime.Object) {
	t.Helper()
	switch v := obj.(type) {
	case *corev1.ServiceAccount:
		o.sa = v
	case *rbacv1.Role:
		o.role = v
	case *rbacv1.RoleBinding:
		o.rb = v
	case *corev1.ConfigMap:
		o.cm = v
	case *corev1.Service:
		o.svc = v
	case *appsv1.StatefulSet:
		o.sts = v
	case *policyv1.PodDisruptionBudget:
		o.pdb = v
	default:
		t.Fatalf("%s: unexpected kind %T (a ClusterRole or ClusterRoleBinding would widen the RBAC)", path, obj)
	}
}

func TestEveryManifestDecodesAndIsListed(t *testing.T) {
	o := load(t)
	require.NotNil(t, o.sa)
	require.NotNil(t, o.role)
	require.NotNil(t, o.rb)
	require.NotNil(t, o.cm)
	require.NotNil(t, o.svc)
	require.NotNil(t, o.sts)
	require.NotNil(t, o.pdb)
	for _, m := range []interface{ GetNamespace() string }{o.sa, o.role, o.rb, o.cm, o.svc, o.sts, o.pdb} {
		assert.Equal(t, namespace, m.GetNamespace(), "%T", m)
	}

	var k struct {
		Namespace string   `yaml:"namespace"`
		Resources []string `yaml:"resources"`
	}
	raw, err := os.ReadFile("kustomization.yaml")
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(raw, &k))
	assert.Equal(t, namespace, k.Namespace)
	sort.Strings(k.Resources)
	assert.Equal(t, o.files, k.Resources, "kustomization.yaml lists every manifest")
}

// The Role grants exactly the Lease verbs the coordinator uses, in its namespace only, to the
// ServiceAccount the pods run as.
func TestRBACIsLimitedToLeases(t *testing.T) {
	o := load(t)
	require.Len(t, o.role.Rules, 1)
	r := o.role.Rules[0]
	assert.Equal(t, []string{"coordination.k8s.io"}, r.APIGroups)
	assert.Equal(t, []string{"leases"}, r.Resources)
	assert.ElementsMatch(t, []string{"get", "list", "watch", "create", "update"}, r.Verbs)
	assert.Empty(t, r.NonResourceURLs)

	assert.Equal(t, rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: o.role.Name}, o.rb.RoleRef)
	require.Len(t, o.rb.Subjects, 1)
	assert.Equal(t, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: o.sa.Name, Namespace: o.sa.Namespace}, o.rb.Subjects[0])
	assert.Equal(t, o.sa.Name, o.sts.Spec.Template.Spec.ServiceAccountName)
	assert.Equal(t, o.role.Namespace, o.rb.Namespace)
}

// container returns the StatefulSet's collector container.
func container(t *testing.T, o *objects) corev1.Container {
	t.Helper()
	require.Len(t, o.sts.Spec.Template.Spec.Containers, 1)
	return o.sts.Spec.Template.Spec.Containers[0]
}

func TestStatefulSetIdentityAndVolumes(t *testing.T) {
	o := load(t)
	spec := o.sts.Spec
	require.NotNil(t, spec.Replicas)
	assert.EqualValues(t, 3, *spec.Replicas)
	assert.Equal(t, o.svc.Name, spec.ServiceName)
	assert.Equal(t, corev1.ClusterIPNone, o.svc.Spec.ClusterIP, "the governing service is headless")
	assert.Equal(t, spec.Selector.MatchLabels, o.svc.Spec.Selector)
	assert.Equal(t, spec.Selector.MatchLabels, o.pdb.Spec.Selector.MatchLabels)
	for k, v := range spec.Selector.MatchLabels {
		assert.Equal(t, v, spec.Template.Labels[k], "the selector matches the pod template")
	}

	c := container(t, o)
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	for name, field := range map[string]string{"POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace", "POD_IP": "status.podIP"} {
		e, ok := env[name]
		require.True(t, ok, "%s is set", name)
		require.NotNil(t, e.ValueFrom, name)
		require.NotNil(t, e.ValueFrom.FieldRef, "%s comes from the downward API", name)
		assert.Equal(t, field, e.ValueFrom.FieldRef.FieldPath, name)
	}

	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	require.Len(t, spec.VolumeClaimTemplates, 1, "one volume per replica")
	pvc := spec.VolumeClaimTemplates[0]
	assert.Equal(t, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, pvc.Spec.AccessModes)
	assert.Contains(t, mounts, pvc.Name, "the replica's volume is mounted")
	require.Len(t, spec.Template.Spec.Volumes, 1)
	cfgVol := spec.Template.Spec.Volumes[0]
	require.NotNil(t, cfgVol.ConfigMap)
	assert.Equal(t, o.cm.Name, cfgVol.ConfigMap.Name)
	assert.Contains(t, c.Args, "--config="+filepath.Join(mounts[cfgVol.Name], "config.yaml"))
	assert.Contains(t, o.cm.Data, "config.yaml")

	cfg := collectorConfig(t, o)
	dir, _ := cfg.get("extensions", "file_storage", "directory").(string)
	assert.True(t, strings.HasPrefix(dir, mounts[pvc.Name]+"/"), "file_storage (%s) is on the replica's volume (%s)", dir, mounts[pvc.Name])
}

func TestEnvironmentIsWired(t *testing.T) {
	o := load(t)
	c := container(t, o)
	podEnv := map[string]bool{}
	for _, e := range c.Env {
		podEnv[e.Name] = true
	}
	require.Len(t, c.EnvFrom, 1)
	require.NotNil(t, c.EnvFrom[0].SecretRef)
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	secret := c.EnvFrom[0].SecretRef.Name
	require.Contains(t, string(readme), "create secret generic "+secret+" ")
	for _, v := range envRefs(o.cm.Data["config.yaml"]) {
		if !podEnv[v] {
			assert.Contains(t, string(readme), "--from-literal="+v+"=", "%s comes from the secret %s: the README's command creates it", v, secret)
		}
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	cfg := collectorConfig(t, o)
	assert.Equal(t, "${env:POD_IP}:13133", cfg.get("extensions", "health_check", "endpoint"))
	assert.EqualValues(t, 13133, ports["health"])
	assert.Equal(t, "health", c.ReadinessProbe.HTTPGet.Port.StrVal)
	prom := cfg.get("service", "telemetry", "metrics", "readers").([]any)[0]
	assert.EqualValues(t, ports["metrics"], config{prom.(map[string]any)}.get("pull", "exporter", "prometheus", "port"))
}

// envRefs returns the ${env:NAME} names a config reads, sorted.
func envRefs(s string) []string {
	var out []string
	for rest := s; ; {
		i := strings.Index(rest, "${env:")
		if i < 0 {
			break
		}
		rest = rest[i+len("${env:"):]
		name, _, _ := strings.Cut(rest, "}")
		name, _, _ = strings.Cut(name, ":-")
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
