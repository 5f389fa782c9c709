package deploy

import (
	"bufio"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// relayPort returns the container port of the relay's Deployment that port names (by name or
// number), or 0.
func relayPort(c *corev1.Container, port intstr.IntOrString) int32 {
	for _, p := range c.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			return p.ContainerPort
		}
	}
	return 0
}

// TestRelayDeployment asserts what makes the relay work: one replica (two would each hear part
// of the deliveries), replaced by Recreate, running `lpbench relay -listen :PORT` on the port the
// probes and the Service use, with readiness on /readyz, liveness on /healthz and resource
// requests; the Service selecting its pods.
func TestRelayDeployment(t *testing.T) {
	m := loadManifests(t)
	d, ok := m.deploys[relayName]
	if !ok {
		t.Fatalf("no Deployment %s", relayName)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("replicas %v, want 1: each relay pod hears only the deliveries sent to it", d.Spec.Replicas)
	}
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("strategy %q, want Recreate: a rolling update runs two relays at once", d.Spec.Strategy.Type)
	}
	pod := &d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := &pod.Containers[0]
	argv := append(append([]string{}, c.Command...), c.Args...)
	if len(argv) < 4 || argv[0] != "lpbench" || argv[1] != "relay" || argv[2] != "-listen" {
		t.Fatalf("the relay runs %q, want [lpbench relay -listen :PORT ...]", argv)
	}
	checkRelayMemory(t, c, argv[4:])
	listen, err := strconv.Atoi(strings.TrimPrefix(argv[3], ":"))
	if err != nil || !strings.HasPrefix(argv[3], ":") {
		t.Fatalf("-listen %q: want :PORT on every interface", argv[3])
	}
	probes := map[string]*corev1.Probe{"/readyz": c.ReadinessProbe, "/healthz": c.LivenessProbe}
	for path, p := range probes {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path || relayPort(c, p.HTTPGet.Port) != int32(listen) {
			t.Errorf("probe %s: %+v, want an HTTP GET of %s on port %d", path, p, path, listen)
		}
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %+v: want CPU and memory requests and a memory limit", c.Resources)
	}
	if !labels.SelectorFromSet(d.Spec.Selector.MatchLabels).Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("the Deployment's selector does not match its pods")
	}
	svc, ok := m.services[relayName]
	if !ok {
		t.Fatalf("no Service %s", relayName)
	}
	if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("Service %s selects %v, not the relay's pods %v", relayName, svc.Spec.Selector, d.Spec.Template.Labels)
	}
	if len(svc.Spec.Ports) != 1 || relayPort(c, svc.Spec.Ports[0].TargetPort) != int32(listen) {
		t.Errorf("Service %s ports %+v: want one, to the relay's port %d", relayName, svc.Spec.Ports, listen)
	}
	if labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(m.job(t, shardJobName).Spec.Template.Labels)) {
		t.Errorf("Service %s selects the shard pods too", relayName)
	}
}

// TestShardsUseRelay: the shards subscribe to the relay's Service: --webhook-relay
// "${WEBHOOK_RELAY}", which is http://<Service>:<port>.
func TestShardsUseRelay(t *testing.T) {
	m := loadManifests(t)
	c := theContainer(t, m.job(t, shardJobName))
	if !regexp.MustCompile(`lpbench run \S+ .*--webhook-relay "?\$\{WEBHOOK_RELAY\}"?(\s|$)`).MatchString(shellScript(t, c)) {
		t.Errorf("the shard command does not pass --webhook-relay ${WEBHOOK_RELAY}")
	}
	e := envVar(c, "WEBHOOK_RELAY")
	if e == nil {
		t.Fatal("no WEBHOOK_RELAY in the shards' env")
	}
	u, err := url.Parse(e.Value)
	svc := m.services[relayName]
	if err != nil || svc == nil || u.Scheme != "http" || u.Hostname() != svc.Name || u.Port() != strconv.Itoa(int(svc.Spec.Ports[0].Port)) || strings.Trim(u.Path, "/") != "" {
		t.Errorf("WEBHOOK_RELAY %q: want http://%s:PORT, the relay's Service", e.Value, relayName)
	}
}

// TestRelayIngress: the optional Ingress exposes the relay's /webhook/ paths only — the
// subscription streams carry every consumer's notifications and stay inside the cluster — over
// TLS, to the relay's Service port.
func TestRelayIngress(t *testing.T) {
	m := loadManifests(t)
	ing, ok := m.ingresses[relayName]
	if !ok {
		t.Skip("no Ingress: optional")
	}
	svc := m.services[relayName]
	if len(ing.Spec.TLS) == 0 {
		t.Errorf("no TLS: LivePerson delivers over HTTPS")
	}
	var paths int
	for _, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for _, p := range r.HTTP.Paths {
			paths++
			if p.Path != "/webhook/" || p.PathType == nil || *p.PathType != "Prefix" {
				t.Errorf("path %q (%v): want only the Prefix /webhook/", p.Path, p.PathType)
			}
			b := p.Backend.Service
			if b == nil || b.Name != relayName || (b.Port.Name != svc.Spec.Ports[0].Name && b.Port.Number != svc.Spec.Ports[0].Port) {
				t.Errorf("path %s goes to %+v, want Service %s's port", p.Path, b, relayName)
			}
		}
	}
	if paths == 0 {
		t.Error("the Ingress routes nothing")
	}
}

// TestReadmeCommands: the README of deploy/kubernetes and the repository's docs/distributed.md
// apply files that exist, apply the relay, and say where LivePerson's webhook URL points: the
// Ingress host's /webhook/<target>, with a target of the profile.
func TestReadmeCommands(t *testing.T) {
	m := loadManifests(t)
	ing := m.ingresses[relayName]
	for _, f := range []string{filepath.Join(manifestDir, "README.md"), filepath.Join("..", "docs", "distributed.md")} {
		data, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue // deploy/ on its own
		}
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		for _, am := range regexp.MustCompile(`kubectl apply -f (\S+\.yaml)`).FindAllStringSubmatch(text, -1) {
			if _, err := os.Stat(filepath.Join(manifestDir, am[1])); err != nil {
				t.Errorf("%s: kubectl apply -f %s: no such manifest", f, am[1])
			}
		}
		for _, want := range []string{"kubectl apply -f relay.yaml", "/webhook/"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s does not say %q", f, want)
			}
		}
		if ing != nil {
			host := ing.Spec.Rules[0].Host
			target := m.profile(t).Targets[0].Name
			if want := "https://" + host + "/webhook/" + target; !strings.Contains(text, want) {
				t.Errorf("%s does not give LivePerson's webhook URL as %s", f, want)
			}
		}
	}
}

// startRelay starts the real `lpbench relay` on 127.0.0.1 from bin and returns its URL; it is
// stopped when the test ends.
func startRelay(t *testing.T, bin string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "lpbench"), "relay", "-listen", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	um := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(line)
	if err != nil || um == nil {
		t.Fatalf("no URL in the relay's banner %q: %v", line, err)
	}
	go io.Copy(io.Discard, out)
	return um[1]
}

// relaySubscriptions is how many subscriptions (shards × verified targets) relay.yaml's memory
// limit is sized for.
const relaySubscriptions = 16

// checkRelayMemory: the relay's full queues, relaySubscriptions × -queue-bytes (32 MiB when not
// set), take at most half the container's memory limit (the rest: deliveries being received,
// the Go runtime), and GOMEMLIMIT, if set, lies between them and the limit.
func checkRelayMemory(t *testing.T, c *corev1.Container, flags []string) {
	t.Helper()
	queueBytes := int64(32 << 20)
	for i := 0; i+1 < len(flags); i += 2 {
		if flags[i] == "-queue-bytes" {
			n, err := strconv.ParseInt(flags[i+1], 10, 64)
			if err != nil {
				t.Fatalf("-queue-bytes %q: %v", flags[i+1], err)
			}
			queueBytes = n
		}
	}
	limit := c.Resources.Limits.Memory().Value()
	queues := relaySubscriptions * queueBytes
	if queues > limit/2 {
		t.Errorf("%d subscriptions × -queue-bytes %d = %d MiB of queues, more than half the memory limit %d MiB", relaySubscriptions, queueBytes, queues>>20, limit>>20)
	}
	for _, e := range c.Env {
		if e.Name != "GOMEMLIMIT" {
			continue
		}
		v, ok := strings.CutSuffix(e.Value, "MiB")
		n, err := strconv.ParseInt(v, 10, 64)
		if !ok || err != nil || n<<20 <= queues || n<<20 >= limit {
			t.Errorf("GOMEMLIMIT %q: want N MiB between the queues' %d MiB and the limit's %d MiB", e.Value, queues>>20, limit>>20)
		}
	}
}
