package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// The names the manifests and their README agree on.
const (
	manifestDir  = "kubernetes"
	shardJobName = "lpbench-shards"
	mergeJobName = "lpbench-merge"
	profileCM    = "lpbench-profile"
	credentials  = "lpbench-credentials"
	resultsPVC   = "lpbench-results"
	runCM        = "lpbench-run"
	relayName    = "lpbench-relay" // the Deployment, its Service and the Ingress
	// lpbench run's default -grace: how long journeys in flight may finish after SIGTERM.
	lpbenchGrace = 15 * time.Second
)

// manifests are the objects of every YAML file under kubernetes/, by kind and name.
type manifests struct {
	namespaces map[string]*corev1.Namespace
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
	pvcs       map[string]*corev1.PersistentVolumeClaim
	jobs       map[string]*batchv1.Job
	pods       map[string]*corev1.Pod
	deploys    map[string]*appsv1.Deployment
	services   map[string]*corev1.Service
	ingresses  map[string]*networkingv1.Ingress
	// objects holds every object's metadata with the file it came from.
	objects []placed
}

type placed struct {
	file, kind string
	meta       *metav1.ObjectMeta
}

// kinds are the objects the manifests may hold; anything else fails the test.
var kinds = map[string]func() any{
	"v1/Namespace":                 func() any { return &corev1.Namespace{} },
	"v1/ConfigMap":                 func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                    func() any { return &corev1.Secret{} },
	"v1/PersistentVolumeClaim":     func() any { return &corev1.PersistentVolumeClaim{} },
	"v1/Pod":                       func() any { return &corev1.Pod{} },
	"batch/v1/Job":                 func() any { return &batchv1.Job{} },
	"apps/v1/Deployment":           func() any { return &appsv1.Deployment{} },
	"v1/Service":                   func() any { return &corev1.Service{} },
	"networking.k8s.io/v1/Ingress": func() any { return &networkingv1.Ingress{} },
}

// docSeparator splits a multi-document YAML file.
var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*(#.*)?$`)

// decodeStrict decodes one YAML document into its typed Kubernetes object: an unknown field, a
// duplicate key or a wrong type is an error, as is a kind the manifests are not expected to hold.
func decodeStrict(doc []byte) (any, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return nil, err
	}
	newObj, ok := kinds[tm.APIVersion+"/"+tm.Kind]
	if !ok {
		return nil, fmt.Errorf("unexpected apiVersion %q kind %q", tm.APIVersion, tm.Kind)
	}
	obj := newObj()
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return nil, fmt.Errorf("%s: %w", tm.Kind, err)
	}
	return obj, nil
}

// splitDocs returns the non-empty documents of a YAML file.
func splitDocs(data []byte) ([][]byte, error) {
	var docs [][]byte
	for _, d := range docSeparator.Split(string(data), -1) {
		var v any
		if err := yaml.Unmarshal([]byte(d), &v); err != nil {
			return nil, err
		}
		if v != nil { // only comments and blank lines
			docs = append(docs, []byte(d))
		}
	}
	return docs, nil
}

func loadManifests(t *testing.T) *manifests {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(manifestDir, "*.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no YAML files in %s", manifestDir)
	}
	m := &manifests{
		namespaces: map[string]*corev1.Namespace{},
		configMaps: map[string]*corev1.ConfigMap{},
		secrets:    map[string]*corev1.Secret{},
		pvcs:       map[string]*corev1.PersistentVolumeClaim{},
		jobs:       map[string]*batchv1.Job{},
		pods:       map[string]*corev1.Pod{},
		deploys:    map[string]*appsv1.Deployment{},
		services:   map[string]*corev1.Service{},
		ingresses:  map[string]*networkingv1.Ingress{},
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := splitDocs(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(docs) == 0 {
			t.Errorf("%s: no object", f)
		}
		for i, doc := range docs {
			obj, err := decodeStrict(doc)
			if err != nil {
				t.Errorf("%s, document %d: %v", f, i+1, err)
				continue
			}
			var meta *metav1.ObjectMeta
			var seen bool
			switch o := obj.(type) {
			case *corev1.Namespace:
				meta, seen = &o.ObjectMeta, add(m.namespaces, o.Name, o)
			case *corev1.ConfigMap:
				meta, seen = &o.ObjectMeta, add(m.configMaps, o.Name, o)
			case *corev1.Secret:
				meta, seen = &o.ObjectMeta, add(m.secrets, o.Name, o)
			case *corev1.PersistentVolumeClaim:
				meta, seen = &o.ObjectMeta, add(m.pvcs, o.Name, o)
			case *corev1.Pod:
				meta, seen = &o.ObjectMeta, add(m.pods, o.Name, o)
			case *batchv1.Job:
				meta, seen = &o.ObjectMeta, add(m.jobs, o.Name, o)
			case *appsv1.Deployment:
				meta, seen = &o.ObjectMeta, add(m.deploys, o.Name, o)
			case *corev1.Service:
				meta, seen = &o.ObjectMeta, add(m.services, o.Name, o)
			case *networkingv1.Ingress:
				meta, seen = &o.ObjectMeta, add(m.ingresses, o.Name, o)
			}
			kind := fmt.Sprintf("%T", obj)
			if meta.Name == "" {
				t.Errorf("%s: a %s without metadata.name", f, kind)
			}
			if seen {
				t.Errorf("%s: a second %s named %q", f, kind, meta.Name)
			}
			m.objects = append(m.objects, placed{file: f, kind: kind, meta: meta})
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return m
}

// add puts v into m under name and tells whether the name was taken.
func add[T any](m map[string]T, name string, v T) bool {
	_, seen := m[name]
	m[name] = v
	return seen
}

func (m *manifests) job(t *testing.T, name string) *batchv1.Job {
	t.Helper()
	j, ok := m.jobs[name]
	if !ok {
		t.Fatalf("no Job %q in %s", name, manifestDir)
	}
	return j
}

// theContainer returns the only container of a Job's pods.
func theContainer(t *testing.T, j *batchv1.Job) *corev1.Container {
	t.Helper()
	cs := j.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("Job %s: %d containers, want 1", j.Name, len(cs))
	}
	return &cs[0]
}

// shellScript returns the script a container runs through `sh -c`.
func shellScript(t *testing.T, c *corev1.Container) string {
	t.Helper()
	argv := append(slices.Clone(c.Command), c.Args...)
	if len(argv) != 3 || (argv[0] != "/bin/sh" && argv[0] != "sh") || argv[1] != "-c" {
		t.Fatalf("container %s runs %q, want [/bin/sh -c SCRIPT]", c.Name, argv)
	}
	return argv[2]
}

// mountOf returns the container's mount of the pod volume that satisfies is.
func mountOf(pod *corev1.PodSpec, c *corev1.Container, is func(corev1.VolumeSource) bool) (*corev1.VolumeMount, *corev1.Volume) {
	for i := range pod.Volumes {
		v := &pod.Volumes[i]
		if !is(v.VolumeSource) {
			continue
		}
		for j := range c.VolumeMounts {
			if c.VolumeMounts[j].Name == v.Name {
				return &c.VolumeMounts[j], v
			}
		}
	}
	return nil, nil
}

func isConfigMap(name string) func(corev1.VolumeSource) bool {
	return func(s corev1.VolumeSource) bool { return s.ConfigMap != nil && s.ConfigMap.Name == name }
}

func isClaim(name string) func(corev1.VolumeSource) bool {
	return func(s corev1.VolumeSource) bool {
		return s.PersistentVolumeClaim != nil && s.PersistentVolumeClaim.ClaimName == name
	}
}

// profileDoc is the little of a profile the manifests depend on.
type profileDoc struct {
	Targets []struct {
		Name            string `json:"name"`
		CSDS            string `json:"csds"`
		ClientIDEnv     string `json:"client_id_env"`
		ClientSecretEnv string `json:"client_secret_env"`
		RequestTimeout  string `json:"request_timeout"`
	} `json:"targets"`
	Journey struct {
		RequestTimeout string `json:"request_timeout"`
	} `json:"journey"`
}

// profileText returns the profile the shards run: the ConfigMap's key that the shard command
// reads through the ConfigMap's mount.
func (m *manifests) profileText(t *testing.T) string {
	t.Helper()
	j := m.job(t, shardJobName)
	c := theContainer(t, j)
	mnt, vol := mountOf(&j.Spec.Template.Spec, c, isConfigMap(profileCM))
	if mnt == nil {
		t.Fatalf("Job %s does not mount ConfigMap %s", j.Name, profileCM)
	}
	cm, ok := m.configMaps[profileCM]
	if !ok {
		t.Fatalf("no ConfigMap %s", profileCM)
	}
	// The file the command names, e.g. /profile/profile.yaml, and the key it comes from.
	path := regexp.MustCompile(`lpbench run (\S+)`).FindStringSubmatch(shellScript(t, c))
	if path == nil {
		t.Fatalf("Job %s does not run `lpbench run FILE`", j.Name)
	}
	rel, ok := strings.CutPrefix(strings.Trim(path[1], `"'`), strings.TrimSuffix(mnt.MountPath, "/")+"/")
	if !ok {
		t.Fatalf("Job %s runs profile %s, outside the ConfigMap's mount %s", j.Name, path[1], mnt.MountPath)
	}
	key := rel
	for _, it := range vol.ConfigMap.Items {
		if it.Path == rel {
			key = it.Key
		}
	}
	text, ok := cm.Data[key]
	if !ok {
		t.Fatalf("Job %s runs %s, but ConfigMap %s has no key %q", j.Name, path[1], profileCM, key)
	}
	return text
}

func (m *manifests) profile(t *testing.T) profileDoc {
	t.Helper()
	var p profileDoc
	if err := yaml.Unmarshal([]byte(m.profileText(t)), &p); err != nil {
		t.Fatalf("the profile in ConfigMap %s: %v", profileCM, err)
	}
	return p
}

// shardFlag matches the --shard flag of the shard command: K must be the completion index.
var shardFlag = regexp.MustCompile(`--shard[ =]"?\$\{JOB_COMPLETION_INDEX\}/(\d+)"?(\s|$)`)

// shardCount returns the N of `--shard ${JOB_COMPLETION_INDEX}/N`.
func shardCount(t *testing.T, script string) int32 {
	t.Helper()
	sm := shardFlag.FindStringSubmatch(script)
	if sm == nil {
		t.Fatalf("the shard command has no --shard ${JOB_COMPLETION_INDEX}/N:\n%s", script)
	}
	n, err := strconv.ParseInt(sm[1], 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	return int32(n)
}

func TestDecodeIsStrict(t *testing.T) {
	const job = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\nspec:\n"
	for _, tc := range []struct {
		name, doc string
		ok        bool
	}{
		{"valid", job + "  completions: 4\n", true},
		{"unknown field", job + "  completionz: 4\n", false},
		{"unknown nested field", job + "  template:\n    spec:\n      restartPolcy: Never\n", false},
		{"wrong type", job + "  completions: four\n", false},
		{"duplicate key", job + "  completions: 4\n  completions: 5\n", false},
		{"unknown kind", "apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: s\n", false},
		{"unknown Deployment field", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replica: 1\n", false},
		{"wrong apiVersion", "apiVersion: batch/v1beta1\nkind: Job\nmetadata:\n  name: j\n", false},
		{"bad quantity", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: p\nspec:\n  resources:\n    requests:\n      storage: lots\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeStrict([]byte(tc.doc))
			if (err == nil) != tc.ok {
				t.Errorf("decodeStrict: err = %v, want ok = %v", err, tc.ok)
			}
		})
	}
}

func TestSplitDocs(t *testing.T) {
	docs, err := splitDocs([]byte("# a comment\n---\na: 1\n--- # second\nb: 2\n---\n# only a comment\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 {
		t.Fatalf("got %d documents, want 2: %q", len(docs), docs)
	}
}

// TestManifestsDecode decodes every YAML file strictly and checks that the objects live in one
// namespace (the one namespace.yaml creates, when it exists).
func TestManifestsDecode(t *testing.T) {
	m := loadManifests(t)
	for _, want := range []struct {
		what string
		ok   bool
	}{
		{"Job " + shardJobName, m.jobs[shardJobName] != nil},
		{"Job " + mergeJobName, m.jobs[mergeJobName] != nil},
		{"ConfigMap " + profileCM, m.configMaps[profileCM] != nil},
		{"Secret " + credentials, m.secrets[credentials] != nil},
		{"PersistentVolumeClaim " + resultsPVC, m.pvcs[resultsPVC] != nil},
	} {
		if !want.ok {
			t.Errorf("no %s in %s", want.what, manifestDir)
		}
	}
	if len(m.namespaces) > 1 {
		t.Errorf("%d namespaces, want at most 1", len(m.namespaces))
	}
	var ns string
	for name := range m.namespaces {
		ns = name
	}
	for _, o := range m.objects {
		if o.kind == "*v1.Namespace" {
			continue
		}
		if ns != "" && o.meta.Namespace != ns {
			t.Errorf("%s: %s %s is in namespace %q, want %q (namespace.yaml)", o.file, o.kind, o.meta.Name, o.meta.Namespace, ns)
		}
		if ns == "" && o.meta.Namespace != "" {
			t.Errorf("%s: %s %s names namespace %q that no manifest creates", o.file, o.kind, o.meta.Name, o.meta.Namespace)
		}
	}
}

// TestReferencesResolve checks that every ConfigMap, Secret and claim a pod uses is defined here.
func TestReferencesResolve(t *testing.T) {
	m := loadManifests(t)
	specs := map[string]*corev1.PodSpec{}
	for name, j := range m.jobs {
		specs["Job "+name] = &j.Spec.Template.Spec
	}
	for name, p := range m.pods {
		specs["Pod "+name] = &p.Spec
	}
	for name, d := range m.deploys {
		specs["Deployment "+name] = &d.Spec.Template.Spec
	}
	for who, spec := range specs {
		for _, v := range spec.Volumes {
			switch {
			case v.ConfigMap != nil && m.configMaps[v.ConfigMap.Name] == nil:
				t.Errorf("%s: volume %s: no ConfigMap %s", who, v.Name, v.ConfigMap.Name)
			case v.Secret != nil && m.secrets[v.Secret.SecretName] == nil:
				t.Errorf("%s: volume %s: no Secret %s", who, v.Name, v.Secret.SecretName)
			case v.PersistentVolumeClaim != nil && m.pvcs[v.PersistentVolumeClaim.ClaimName] == nil:
				t.Errorf("%s: volume %s: no PersistentVolumeClaim %s", who, v.Name, v.PersistentVolumeClaim.ClaimName)
			}
		}
		for _, c := range spec.Containers {
			for _, vm := range c.VolumeMounts {
				if !slices.ContainsFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == vm.Name }) {
					t.Errorf("%s: container %s mounts undefined volume %s", who, c.Name, vm.Name)
				}
			}
			for _, ef := range c.EnvFrom {
				if ef.SecretRef != nil && m.secrets[ef.SecretRef.Name] == nil {
					t.Errorf("%s: envFrom: no Secret %s", who, ef.SecretRef.Name)
				}
				if ef.ConfigMapRef != nil && m.configMaps[ef.ConfigMapRef.Name] == nil {
					t.Errorf("%s: envFrom: no ConfigMap %s", who, ef.ConfigMapRef.Name)
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
					if cm := m.configMaps[r.Name]; cm == nil {
						t.Errorf("%s: env %s: no ConfigMap %s", who, e.Name, r.Name)
					} else if _, ok := cm.Data[r.Key]; !ok {
						t.Errorf("%s: env %s: ConfigMap %s has no key %s", who, e.Name, r.Name, r.Key)
					}
				}
				if r := e.ValueFrom.SecretKeyRef; r != nil {
					if s := m.secrets[r.Name]; s == nil {
						t.Errorf("%s: env %s: no Secret %s", who, e.Name, r.Name)
					} else if !slices.Contains(secretKeys(s), r.Key) {
						t.Errorf("%s: env %s: Secret %s has no key %s", who, e.Name, r.Name, r.Key)
					}
				}
			}
		}
	}
}

// TestShardJob asserts what makes sharding work: N pods, each with its own index as K of N,
// nothing retried, the profile and the credentials in, the results out on the shared volume.
func TestShardJob(t *testing.T) {
	m := loadManifests(t)
	j := m.job(t, shardJobName)
	spec := &j.Spec
	pod := &spec.Template.Spec
	c := theContainer(t, j)
	script := shellScript(t, c)
	n := shardCount(t, script)

	if n < 2 {
		t.Errorf("--shard .../%d: a distributed run wants N ≥ 2", n)
	}
	if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode is not Indexed: JOB_COMPLETION_INDEX is K")
	}
	if i32(spec.Completions) != n || i32(spec.Parallelism) != n {
		t.Errorf("completions = %d, parallelism = %d (-1: unset), want both = %d, the N of --shard K/%d",
			i32(spec.Completions), i32(spec.Parallelism), n, n)
	}
	if i32(spec.BackoffLimit) != 0 {
		t.Errorf("backoffLimit = %d (-1: unset, i.e. 6), want 0: a retried shard sends its arrivals twice", i32(spec.BackoffLimit))
	}
	if spec.BackoffLimitPerIndex != nil && *spec.BackoffLimitPerIndex != 0 {
		t.Errorf("backoffLimitPerIndex = %d, want none or 0", *spec.BackoffLimitPerIndex)
	}
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy = %q, want Never (a restarted container repeats its arrivals)", pod.RestartPolicy)
	}

	checks := []struct {
		what string
		re   string
	}{
		{"run the profile live", `lpbench run \S+ .*--live`},
		{"run without progress display", `lpbench run \S+ .*--no-progress`},
		{"turn exit code 3 into 0", `"?\$\{?code\}?"? -eq 3 \]; then(.|\n)*exit 0`},
		{"pass SIGTERM on to lpbench", `trap '[^']*kill -TERM[^']*' [^\n]*TERM`},
		{"exit with lpbench's code otherwise", `exit "?\$\{?code\}?"?\s*$`},
		{"mark its result with the run's id", `lpbench run \S+ .*--run-id "?\$\{RUN_ID\}"?(\s|$)`},
		{"start at the run's barrier", `lpbench run \S+ .*--start-at "?\$\{START_AT\}"?(\s|$)`},
	}
	for _, ck := range checks {
		if !regexp.MustCompile(ck.re).MatchString(script) {
			t.Errorf("the shard command should %s (/%s/):\n%s", ck.what, ck.re, script)
		}
	}
	checkNoKubeletExpansion(t, shardJobName, script)
	out := shardOut(t, script)
	if !strings.HasPrefix(out, "/results/${RUN_ID}/") || !strings.Contains(out, "${JOB_COMPLETION_INDEX}") {
		t.Errorf("--out %s: want a directory of the run (/results/${RUN_ID}/...) named by the index", out)
	}

	// The profile from the ConfigMap, the results on the claim, shared with the merge.
	if mnt, _ := mountOf(pod, c, isConfigMap(profileCM)); mnt == nil {
		t.Errorf("the container does not mount ConfigMap %s", profileCM)
	}
	mnt, _ := mountOf(pod, c, isClaim(resultsPVC))
	switch {
	case mnt == nil:
		t.Errorf("the container does not mount claim %s", resultsPVC)
	case mnt.MountPath != "/results" || mnt.ReadOnly || mnt.SubPath != "":
		t.Errorf("claim %s mounted at %q (readOnly %v, subPath %q), want /results, writable, whole",
			resultsPVC, mnt.MountPath, mnt.ReadOnly, mnt.SubPath)
	}

	// The credentials: the Secret's keys are exactly the variables the profile names.
	var fromSecret []string
	for _, ef := range c.EnvFrom {
		if ef.SecretRef != nil {
			if ef.Prefix != "" {
				t.Errorf("envFrom Secret %s with prefix %q: the variables would not be the profile's", ef.SecretRef.Name, ef.Prefix)
			}
			fromSecret = append(fromSecret, ef.SecretRef.Name)
		}
	}
	if !slices.Equal(fromSecret, []string{credentials}) {
		t.Fatalf("envFrom Secrets %q, want [%s]", fromSecret, credentials)
	}
	var names []string
	for _, tg := range m.profile(t).Targets {
		for _, v := range []string{tg.ClientIDEnv, tg.ClientSecretEnv} {
			if v != "" && !slices.Contains(names, v) {
				names = append(names, v)
			}
		}
	}
	slices.Sort(names)
	if keys := secretKeys(m.secrets[credentials]); !slices.Equal(keys, names) {
		t.Errorf("Secret %s has keys %q; the profile names the variables %q", credentials, keys, names)
	}

	// RUN_ID comes from the manifests, the index from the Job controller.
	if e := envVar(c, "RUN_ID"); e == nil {
		t.Errorf("no RUN_ID in the container's env")
	}
	// The barrier: every shard reads the same START_AT, an RFC 3339 instant, from the run's
	// ConfigMap (where RUN_ID is).
	switch e := envVar(c, "START_AT"); {
	case e == nil:
		t.Errorf("no START_AT in the container's env: the shards would not start together")
	case !fromConfigMap(e, runCM, "START_AT"):
		t.Errorf("START_AT %+v: want it from ConfigMap %s, key START_AT", e, runCM)
	case !fromConfigMap(envVar(c, "RUN_ID"), runCM, "RUN_ID"):
		t.Errorf("RUN_ID does not come from ConfigMap %s: the barrier and the id belong to one run configuration", runCM)
	}
	if v := m.configMaps[runCM].Data["START_AT"]; v == "" {
		t.Errorf("ConfigMap %s has no START_AT", runCM)
	} else if _, err := time.Parse(time.RFC3339, v); err != nil {
		t.Errorf("ConfigMap %s: START_AT %q is not an RFC 3339 time: %v", runCM, v, err)
	}
	if e := envVar(c, "JOB_COMPLETION_INDEX"); e != nil {
		t.Errorf("env JOB_COMPLETION_INDEX is set in the manifest; the Job controller sets it")
	}

	// A graceful stop fits in the grace period: lpbench's -grace for journeys in flight, then
	// closing their conversations, each request bounded by the request timeout.
	grace := 30 * time.Second // Kubernetes' default
	if pod.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	}
	if need := lpbenchGrace + maxRequestTimeout(t, m.profile(t)) + 5*time.Second; grace < need {
		t.Errorf("terminationGracePeriodSeconds = %v, want ≥ %v (lpbench -grace + request timeout + margin)", grace, need)
	}

	// Shards spread over the nodes.
	if !spreadsOverNodes(pod, spec.Template.Labels) {
		t.Errorf("the shard pods are neither spread (topologySpreadConstraints on kubernetes.io/hostname) nor anti-affine across nodes")
	}
	if cpu := c.Resources.Requests.Cpu(); cpu.IsZero() {
		t.Errorf("no CPU request: shards must not be packed by the scheduler onto a busy node")
	}
}

// TestMergeJob asserts that the merge reads what the shards wrote: the same claim at the same
// path, the same RUN_ID, every shard's result.json, and N of them.
func TestMergeJob(t *testing.T) {
	m := loadManifests(t)
	shards, merge := m.job(t, shardJobName), m.job(t, mergeJobName)
	sc, mc := theContainer(t, shards), theContainer(t, merge)
	n := shardCount(t, shellScript(t, sc))
	script := shellScript(t, mc)

	if i32(merge.Spec.BackoffLimit) != 0 {
		t.Errorf("backoffLimit = %d (-1: unset, i.e. 6), want 0: a verdict is not retried", i32(merge.Spec.BackoffLimit))
	}
	if merge.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy = %q, want Never", merge.Spec.Template.Spec.RestartPolicy)
	}
	if (merge.Spec.CompletionMode != nil && *merge.Spec.CompletionMode == batchv1.IndexedCompletion) ||
		i32(merge.Spec.Completions) > 1 || i32(merge.Spec.Parallelism) > 1 {
		t.Errorf("the merge must run once")
	}
	sm, _ := mountOf(&shards.Spec.Template.Spec, sc, isClaim(resultsPVC))
	mm, _ := mountOf(&merge.Spec.Template.Spec, mc, isClaim(resultsPVC))
	switch {
	case mm == nil:
		t.Errorf("the merge does not mount claim %s", resultsPVC)
	case sm != nil && mm.MountPath != sm.MountPath:
		t.Errorf("the merge mounts the results at %s, the shards at %s", mm.MountPath, sm.MountPath)
	case mm.ReadOnly:
		t.Errorf("the merge mounts the results read-only: it writes merged.json there")
	}
	if se, me := envVar(sc, "RUN_ID"), envVar(mc, "RUN_ID"); se == nil || me == nil || !sameSource(se, me) {
		t.Errorf("RUN_ID of the shards %v and of the merge %v must come from the same place", se, me)
	}
	if e := envVar(mc, "SHARDS"); e == nil || e.Value != strconv.Itoa(int(n)) {
		t.Errorf("the merge's SHARDS = %v, want %q (the shards' N)", e, strconv.Itoa(int(n)))
	}
	// The glob is what the shards write: their --out with any index, then result.json.
	glob := regexp.MustCompile(`set -- (\S+)`).FindStringSubmatch(inlineVars(script))
	want := strings.ReplaceAll(shardOut(t, shellScript(t, sc)), "${JOB_COMPLETION_INDEX}", "*") + "/result.json"
	if glob == nil || unquote(glob[1]) != want {
		t.Errorf("the merge does not glob the shards' results %s (set -- GLOB):\n%s", want, script)
	}
	for _, ck := range []struct{ what, re string }{
		{"check the number of shard results", `"\$#" -ne "\$\{SHARDS\}"`},
		{"merge them all into the run's merged.json", `lpbench merge "\$@" -o "?/results/\$\{RUN_ID\}/merged\.json"?`},
		{"exit with the merge's code", `exit "?\$\{?code\}?"?\s*$`},
	} {
		if !regexp.MustCompile(ck.re).MatchString(inlineVars(script)) {
			t.Errorf("the merge command should %s (/%s/):\n%s", ck.what, ck.re, script)
		}
	}
	checkNoKubeletExpansion(t, mergeJobName, script)
}

func TestResultsClaim(t *testing.T) {
	m := loadManifests(t)
	pvc := m.pvcs[resultsPVC]
	if pvc == nil {
		t.Fatalf("no PersistentVolumeClaim %s", resultsPVC)
	}
	if !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteMany) {
		t.Errorf("access modes %v: shards on several nodes write at once, want ReadWriteMany", pvc.Spec.AccessModes)
	}
	if s := pvc.Spec.Resources.Requests.Storage(); s.IsZero() {
		t.Errorf("no storage request")
	}
}

// TestNoSecretsCommitted checks that the Secret holds placeholders only and that the profile
// names environment variables rather than holding credentials.
func TestNoSecretsCommitted(t *testing.T) {
	m := loadManifests(t)
	for name, s := range m.secrets {
		if len(s.Data) > 0 {
			t.Errorf("Secret %s has data: put placeholders in stringData, real values only with kubectl create secret", name)
		}
		for k, v := range s.StringData {
			if v != "REPLACE_ME" {
				t.Errorf("Secret %s: %s is not the placeholder REPLACE_ME", name, k)
			}
		}
	}

	p := m.profile(t)
	envName := regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
	live := 0
	for _, tg := range p.Targets {
		if tg.CSDS != "" && tg.CSDS != "sim" && !strings.HasPrefix(tg.CSDS, "http://") {
			live++
			if tg.ClientIDEnv == "" || tg.ClientSecretEnv == "" {
				t.Errorf("live target %s names no credential variables", tg.Name)
			}
		}
		for _, v := range []string{tg.ClientIDEnv, tg.ClientSecretEnv} {
			if v != "" && !envName.MatchString(v) {
				t.Errorf("target %s: %q is not an environment variable name", tg.Name, v)
			}
		}
	}
	if live == 0 {
		t.Errorf("the profile in ConfigMap %s has no live target", profileCM)
	}

	var doc any
	if err := yaml.Unmarshal([]byte(m.profileText(t)), &doc); err != nil {
		t.Fatal(err)
	}
	walk(doc, "", func(path, key string, v any) {
		k := strings.ToLower(key)
		if !strings.HasSuffix(k, "_env") && regexp.MustCompile(`secret|passw|token|api_?key|private`).MatchString(k) {
			t.Errorf("the profile has a key %s: credentials belong in the Secret, named by *_env keys", path)
		}
		if s, ok := v.(string); ok && looksSecret(s) {
			t.Errorf("the profile's %s = %q looks like a credential", path, s)
		}
	})
}

func TestLooksSecret(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", true},
		{"3f9a0c2e8b7d41f6a5c3e2d1b0a99887", true},
		{"AbCdEf1234567890GhIjKlMn", true},
		{"Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==", true},
		{"api.liveperson.net", false},
		{"lpbench-{run}-{target}-{shard}-{n}", false},
		{"window.missed < 0.5%", false},
		{"LP_CLIENT_SECRET", false},
		{"12345678", false},
		{"ramp to 20 journeys/s on one LivePerson account, run as 4 shards", false},
	} {
		if got := looksSecret(tc.s); got != tc.want {
			t.Errorf("looksSecret(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

// looksSecret tells whether s looks like a token, key or password: a JWT, or a long run of
// letters and digits (both) without spaces or punctuation other than base64's and -_.
func looksSecret(s string) bool {
	if strings.HasPrefix(s, "eyJ") {
		return true
	}
	if len(s) < 20 || !regexp.MustCompile(`^[A-Za-z0-9+/=_.\-]+$`).MatchString(s) {
		return false
	}
	return strings.ContainsAny(s, "0123456789") && strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
}

// walk calls f for every mapping entry and sequence item of a decoded YAML document.
func walk(v any, path string, f func(path, key string, v any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := strings.TrimPrefix(path+"."+k, ".")
			f(p, k, e)
			walk(e, p, f)
		}
	case []any:
		for i, e := range x {
			p := fmt.Sprintf("%s[%d]", path, i)
			f(p, "", e)
			walk(e, p, f)
		}
	}
}

// checkNoKubeletExpansion: Kubernetes replaces $(VAR) in command and args before the shell
// sees them (and $$ by $); the scripts leave all expansion to the shell, so they run the same
// in a pod and in the tests.
func checkNoKubeletExpansion(t *testing.T, job, script string) {
	t.Helper()
	if strings.Contains(script, "$(") || strings.Contains(script, "$$") {
		t.Errorf("Job %s: the script holds $( or $$, which Kubernetes expands itself:\n%s", job, script)
	}
}

// inlineVars replaces ${NAME} by the value of the script's own plain assignments NAME="VALUE"
// made before, so the paths can be read whole.
func inlineVars(script string) string {
	assign := regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)="([^"$]*(\$\{[A-Z_]+\}[^"$]*)*)"\s*$`)
	vars := map[string]string{}
	lines := strings.Split(script, "\n")
	for i, l := range lines {
		for k, v := range vars {
			l = strings.ReplaceAll(l, "${"+k+"}", v)
		}
		lines[i] = l
		if a := assign.FindStringSubmatch(l); a != nil {
			vars[a[1]] = a[2]
		}
	}
	return strings.Join(lines, "\n")
}

// shardOut returns the --out directory of the shard command, variables of the script inlined.
func shardOut(t *testing.T, script string) string {
	t.Helper()
	m := regexp.MustCompile(`lpbench run .*--out (\S+)`).FindStringSubmatch(inlineVars(script))
	if m == nil {
		t.Fatalf("the shard command has no --out DIR:\n%s", script)
	}
	return unquote(m[1])
}

func unquote(s string) string { return strings.ReplaceAll(s, `"`, "") }

func secretKeys(s *corev1.Secret) []string {
	var keys []string
	for k := range s.StringData {
		keys = append(keys, k)
	}
	for k := range s.Data {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

func envVar(c *corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

// fromConfigMap tells whether env var e takes its value from key of ConfigMap name.
func fromConfigMap(e *corev1.EnvVar, name, key string) bool {
	return e != nil && e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil &&
		e.ValueFrom.ConfigMapKeyRef.Name == name && e.ValueFrom.ConfigMapKeyRef.Key == key
}

// sameSource tells whether two env vars get the same value: the same literal or the same key
// of the same ConfigMap.
func sameSource(a, b *corev1.EnvVar) bool {
	if a.ValueFrom == nil || b.ValueFrom == nil {
		return a.ValueFrom == nil && b.ValueFrom == nil && a.Value == b.Value && a.Value != ""
	}
	ra, rb := a.ValueFrom.ConfigMapKeyRef, b.ValueFrom.ConfigMapKeyRef
	return ra != nil && rb != nil && ra.Name == rb.Name && ra.Key == rb.Key
}

// spreadsOverNodes tells whether the pods with these labels are spread across nodes, by a
// topology spread constraint or a pod anti-affinity on the hostname whose selector matches them.
func spreadsOverNodes(pod *corev1.PodSpec, podLabels map[string]string) bool {
	matches := func(ls *metav1.LabelSelector) bool {
		sel, err := metav1.LabelSelectorAsSelector(ls)
		return err == nil && ls != nil && !sel.Empty() && sel.Matches(labels.Set(podLabels))
	}
	for _, c := range pod.TopologySpreadConstraints {
		if c.TopologyKey == corev1.LabelHostname && c.MaxSkew == 1 && matches(c.LabelSelector) {
			return true
		}
	}
	if a := pod.Affinity; a != nil && a.PodAntiAffinity != nil {
		for _, term := range a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			if term.TopologyKey == corev1.LabelHostname && matches(term.LabelSelector) {
				return true
			}
		}
		for _, w := range a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			if w.PodAffinityTerm.TopologyKey == corev1.LabelHostname && matches(w.PodAffinityTerm.LabelSelector) {
				return true
			}
		}
	}
	return false
}

// maxRequestTimeout is the longest request timeout of the profile (lpbench's default 30s).
func maxRequestTimeout(t *testing.T, p profileDoc) time.Duration {
	t.Helper()
	parse := func(s string, def time.Duration) time.Duration {
		if s == "" {
			return def
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("the profile's request_timeout %q: %v", s, err)
		}
		return d
	}
	longest := parse(p.Journey.RequestTimeout, 30*time.Second)
	for _, tg := range p.Targets {
		longest = max(longest, parse(tg.RequestTimeout, 0))
	}
	return longest
}

// i32 returns *p, or -1 for nil (unset).
func i32(p *int32) int32 {
	if p == nil {
		return -1
	}
	return *p
}
