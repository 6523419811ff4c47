// Package pulumitest runs Pulumi programs against Pulumi's own mock engine (pulumi.WithMocks) and records every
// registered resource, so tests can assert the properties that make the infrastructure correct: settings,
// parenting, names, IAM policy documents and secrecy of inputs.
package pulumitest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The account, region and partition the mocks answer with.
const (
	Account   = "123456789012"
	Region    = "eu-west-1"
	Partition = "aws"
	Project   = "agent-audit"
	Stack     = "dev"
)

// Resource is one registered resource as the engine saw it.
type Resource struct {
	Type, Name string
	Inputs     resource.PropertyMap
	// Parent is the URN of the parent resource ("" for the stack's direct children).
	Parent string
	// DependsOn lists the URNs of explicit dependencies.
	DependsOn []string
	// IgnoreChanges lists the inputs the engine leaves alone after creation (pulumi.IgnoreChanges).
	IgnoreChanges []string
	// RetainOnDelete is set when the engine keeps the cloud resource on delete (pulumi.RetainOnDelete).
	RetainOnDelete bool
	// ID and State are what the mocks answered: the resource's id and its outputs (the inputs and computed
	// properties such as arn).
	ID     string
	State  resource.PropertyMap
	Custom bool
}

// ComponentURN is the URN of a top-level component resource, the Parent of its children.
func ComponentURN(token, name string) string {
	return fmt.Sprintf("urn:pulumi:%s::%s::%s::%s", Stack, Project, token, name)
}

// Mocks is a pulumi.MockResourceMonitor that records resources. Safe for concurrent use.
type Mocks struct {
	// AWSRegion is the region aws:getRegion answers with (default Region). Resource ARNs keep Region.
	AWSRegion string
	// AWSPartition and DNSSuffix are what aws:getPartition answers with (default Partition and amazonaws.com).
	AWSPartition, DNSSuffix string

	mu        sync.Mutex
	resources []Resource
}

var _ pulumi.MockResourceMonitor = (*Mocks)(nil)

// NewResource records the resource and returns its inputs as state, plus the computed properties a real
// provider would return that other resources consume (arn, id, name, bucket, ...).
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r := Resource{Type: args.TypeToken, Name: args.Name, Inputs: args.Inputs, Custom: args.Custom}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Parent = rpc.GetParent()
		r.DependsOn = rpc.GetDependencies()
		r.IgnoreChanges = rpc.GetIgnoreChanges()
		r.RetainOnDelete = rpc.GetRetainOnDelete()
	}
	state := args.Inputs.Copy()
	id := args.Name + "-id"
	physical := args.Name
	if n, ok := args.Inputs["name"]; ok && n.IsString() {
		physical = n.StringValue()
	}
	if b, ok := args.Inputs["bucket"]; ok && b.IsString() && args.TypeToken == "aws:s3/bucketV2:BucketV2" {
		physical = b.StringValue()
	}
	set := func(k, v string) {
		if _, ok := state[resource.PropertyKey(k)]; !ok {
			state[resource.PropertyKey(k)] = resource.NewProperty(v)
		}
	}
	switch args.TypeToken {
	case "aws:s3/bucketV2:BucketV2":
		id = physical
		set("bucket", physical)
		set("arn", "arn:aws:s3:::"+physical)
	case "aws:kms/key:Key":
		id = keyID(args.Name)
		set("keyId", id)
		set("arn", keyARN(args.Name))
	case "aws:kms/keyPolicy:KeyPolicy":
		// The provider's id for an attached key policy is the key's id (what `pulumi import` takes).
		if k, ok := args.Inputs["keyId"]; ok && k.IsString() {
			id = k.StringValue()
		}
	case "aws:kms/alias:Alias":
		set("arn", fmt.Sprintf("arn:aws:kms:%s:%s:%s", Region, Account, physical))
	case "aws:iam/role:Role":
		set("name", physical)
		set("arn", fmt.Sprintf("arn:aws:iam::%s:role/%s", Account, physical))
	case "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
		set("name", physical)
		set("arn", fmt.Sprintf("arn:aws:firehose:%s:%s:deliverystream/%s", Region, Account, physical))
	case "aws:cloudwatch/logGroup:LogGroup":
		set("name", physical)
		set("arn", fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", Region, Account, physical))
	case "aws:ssm/parameter:Parameter":
		set("arn", fmt.Sprintf("arn:aws:ssm:%s:%s:parameter/%s", Region, Account, strings.TrimPrefix(physical, "/")))
	case "aws:lambda/function:Function":
		set("name", physical)
		set("arn", fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", Region, Account, physical))
	case "aws:bedrock/inferenceProfile:InferenceProfile":
		set("arn", fmt.Sprintf("arn:aws:bedrock:%s:%s:application-inference-profile/%s", Region, Account, id))
	case "aws:sns/topic:Topic":
		set("arn", fmt.Sprintf("arn:aws:sns:%s:%s:%s", Region, Account, physical))
	case "aws:cloudwatch/metricAlarm:MetricAlarm":
		set("arn", fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", Region, Account, physical))
	default:
		set("arn", fmt.Sprintf("arn:aws:mock:%s:%s:%s/%s", Region, Account, args.TypeToken, physical))
	}
	r.ID, r.State = id, state
	m.mu.Lock()
	m.resources = append(m.resources, r)
	m.mu.Unlock()
	return id, state, nil
}

// Call answers the data sources the components use.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch args.Token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{"accountId": Account, "arn": "arn:aws:iam::" + Account + ":user/test", "userId": "AIDTEST"}), nil
	case "aws:index/getRegion:getRegion":
		region := m.AWSRegion
		if region == "" {
			region = Region
		}
		return resource.NewPropertyMapFromMap(map[string]any{"name": region, "region": region, "id": region}), nil
	case "aws:kms/getAlias:getAlias":
		name := args.Args["name"].StringValue()
		keyARN := fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", Region, Account, strings.ReplaceAll(strings.TrimPrefix(name, "alias/"), "/", "-")+"-managed-key")
		return resource.NewPropertyMapFromMap(map[string]any{
			"name": name, "arn": fmt.Sprintf("arn:aws:kms:%s:%s:%s", Region, Account, name),
			"targetKeyArn": keyARN, "targetKeyId": keyARN[strings.LastIndex(keyARN, "/")+1:], "id": name,
		}), nil
	case "aws:kms/getPublicKey:getPublicKey":
		return m.getPublicKey(args.Args)
	case "aws:index/getPartition:getPartition":
		partition, suffix := m.AWSPartition, m.DNSSuffix
		if partition == "" {
			partition, suffix = Partition, "amazonaws.com"
		}
		return resource.NewPropertyMapFromMap(map[string]any{"partition": partition, "dnsSuffix": suffix}), nil
	}
	return nil, fmt.Errorf("pulumitest: no mock for call %s", args.Token)
}

// Run runs program on the mock engine and returns its error.
func Run(m *Mocks, program pulumi.RunFunc) error {
	return RunStack(m, Stack, program)
}

// RunStack runs program as Run does, as the stack named stack.
func RunStack(m *Mocks, stack string, program pulumi.RunFunc) error {
	return pulumi.RunErr(program, pulumi.WithMocks(Project, stack, m))
}

// Resources returns every recorded resource in registration order.
func (m *Mocks) Resources() []Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Resource(nil), m.resources...)
}

// ByType returns the resources of one type token.
func (m *Mocks) ByType(token string) []Resource {
	var out []Resource
	for _, r := range m.Resources() {
		if r.Type == token {
			out = append(out, r)
		}
	}
	return out
}

// One returns the single resource of type token whose name is name, failing t otherwise.
func (m *Mocks) One(t testing.TB, token, name string) Resource {
	t.Helper()
	var found []Resource
	for _, r := range m.ByType(token) {
		if r.Name == name {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		var names []string
		for _, r := range m.ByType(token) {
			names = append(names, r.Name)
		}
		t.Fatalf("want one %s named %q, found %d (names of that type: %v)", token, name, len(found), names)
	}
	return found[0]
}

// Get reads a nested input by a dotted path of keys and list indexes ("rules.0.expiration.days"); the zero
// PropertyValue (IsNull) when absent. Secrets are looked through.
func Get(m resource.PropertyMap, path string) resource.PropertyValue {
	v := resource.NewProperty(m)
	for _, part := range strings.Split(path, ".") {
		for v.IsSecret() {
			v = v.SecretValue().Element
		}
		switch {
		case v.IsObject():
			v = v.ObjectValue()[resource.PropertyKey(part)]
		case v.IsArray():
			i, err := strconv.Atoi(part)
			if err != nil || i >= len(v.ArrayValue()) {
				return resource.PropertyValue{}
			}
			v = v.ArrayValue()[i]
		default:
			return resource.PropertyValue{}
		}
	}
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v
}

// Policy is an IAM policy document as tests read it.
type Policy struct {
	Version   string
	Statement []Statement
}

// Statement is one statement of a Policy. The Not* elements are read so that a check can refuse them: an Allow
// with NotAction or NotResource allows everything it does not name. The string form IAM also accepts for
// Action, Resource and principals fails ParsePolicy, so no statement is silently read as empty.
type Statement struct {
	Sid          string
	Effect       string
	Principal    map[string][]string
	NotPrincipal map[string][]string
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	Condition    map[string]map[string]any
}

// ParsePolicy parses a policy document input, failing t when it is not one.
func ParsePolicy(t testing.TB, v resource.PropertyValue) Policy {
	t.Helper()
	if !v.IsString() {
		t.Fatalf("policy input is %s, want a JSON string", v.TypeString())
	}
	var p Policy
	if err := json.Unmarshal([]byte(v.StringValue()), &p); err != nil {
		t.Fatalf("policy is not a policy document: %v\n%s", err, v.StringValue())
	}
	return p
}

// PolicyInputs lists every input of every resource that holds an IAM policy document, with where it is.
func (m *Mocks) PolicyInputs() map[string]resource.PropertyValue {
	out := map[string]resource.PropertyValue{}
	for _, r := range m.Resources() {
		for _, key := range []string{"policy", "assumeRolePolicy"} {
			if v := Get(r.Inputs, key); v.IsString() && strings.Contains(v.StringValue(), `"Statement"`) {
				out[r.Type+" "+r.Name+" "+key] = v
			}
		}
	}
	return out
}

// IsSecret reports whether the input at path is marked secret (directly).
func IsSecret(m resource.PropertyMap, path string) bool {
	v := resource.NewProperty(m)
	parts := strings.Split(path, ".")
	for i, part := range parts {
		if v.IsSecret() {
			return true
		}
		if !v.IsObject() {
			return false
		}
		v = v.ObjectValue()[resource.PropertyKey(part)]
		if i == len(parts)-1 {
			return v.IsSecret()
		}
	}
	return false
}

// ContainsClear reports whether s appears anywhere in any recorded input outside a secret.
func (m *Mocks) ContainsClear(s string) []string {
	var where []string
	for _, r := range m.Resources() {
		if clearContains(resource.NewProperty(r.Inputs), s) {
			where = append(where, r.Type+" "+r.Name)
		}
	}
	return where
}

func clearContains(v resource.PropertyValue, s string) bool {
	switch {
	case v.IsSecret():
		return false
	case v.IsString():
		return strings.Contains(v.StringValue(), s)
	case v.IsArray():
		for _, e := range v.ArrayValue() {
			if clearContains(e, s) {
				return true
			}
		}
	case v.IsObject():
		for _, e := range v.ObjectValue() {
			if clearContains(e, s) {
				return true
			}
		}
	}
	return false
}

// Add records r, for tests that assemble a subset of another run's resources.
func (m *Mocks) Add(r Resource) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.resources = append(m.resources, r)
}
