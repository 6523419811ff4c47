package awsjson

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/agent-audit/agent-audit/function/awsenv"
	"github.com/agent-audit/agent-audit/internal/awsjsontest"
	"github.com/agent-audit/agent-audit/internal/firehosetest"
)

// TestTheFirehoseClientAnswersAsTheSDKClient sends the same PutRecordBatch through the SDK's firehose client (its
// retries off, as the sink used it) and through Firehose, against the same server, and requires the same outcome:
// failed count and which records failed with which code, or the error's code and HTTP status (what
// audit.FirehoseSink decides retries on), or an error that is no answer at all; the same number of attempts (one,
// although the configuration asks for three: the sink owns retries); the same records stored; and requests alike
// (a valid Signature V4 for service firehose, the same target and body).
func TestTheFirehoseClientAnswersAsTheSDKClient(t *testing.T) {
	const stream = "agent-audit-test"
	cases := []struct {
		name   string
		stream string
		fault  *firehosetest.Fault
	}{
		{"a batch is accepted", stream, nil},
		{"a partially failed batch names its failed records", stream, &firehosetest.Fault{FailRecords: []int{0, 2}}},
		{"an unknown stream is ResourceNotFoundException", "other-stream", nil},
		{"throttling is one attempt", stream, &firehosetest.Fault{Status: 400, Code: "ThrottlingException"}},
		{"a 503 carries its status", stream, &firehosetest.Fault{Status: 503, Code: "ServiceUnavailableException"}},
		{"a 502 without a known code carries its status", stream, &firehosetest.Fault{Status: 502, Code: "BadGateway"}},
		{"an answer cut off is no answer", stream, &firehosetest.Fault{StoreThenCut: true}},
		// A reset reaches the client only without the recording proxy in between (which answers 502 instead).
		{"a reset connection is no answer", stream, &firehosetest.Fault{Reset: true}},
	}
	records := [][]byte{[]byte(`{"a":1}` + "\n"), []byte(`{"b":"\u00e9"}` + "\n"), {0, 1, 2, 0xff}}
	type outcome struct {
		Failed int
		Codes  []string
		awsjsontest.Answer
		Attempts int
		Stored   int
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			server := firehosetest.New(t, stream)
			rec := awsjsontest.NewRecorder(t, server.URL)
			direct := tc.fault != nil && tc.fault.Reset
			url := rec.URL
			if direct {
				url = server.URL
			}
			run := func(put func(context.Context) (int, []string, error)) (outcome, []awsjsontest.Request) {
				if tc.fault != nil {
					server.Inject(*tc.fault)
				}
				before, calls := len(server.Records(stream)), server.Calls()
				var o outcome
				var err error
				o.Failed, o.Codes, err = put(context.Background())
				o.Answer = awsjsontest.AnswerOf(err)
				reqs := rec.Taken()
				o.Attempts = server.Calls() - calls
				o.Stored = len(server.Records(stream)) - before
				return o, reqs
			}
			cfg := awsjsontest.Config(url)
			sdk := firehose.NewFromConfig(cfg, func(o *firehose.Options) { o.Retryer = aws.NopRetryer{} })
			want, sdkReqs := run(func(ctx context.Context) (int, []string, error) {
				in := &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(tc.stream)}
				for _, r := range records {
					in.Records = append(in.Records, types.Record{Data: r})
				}
				out, err := sdk.PutRecordBatch(ctx, in)
				if err != nil {
					return 0, nil, err
				}
				var codes []string
				for _, e := range out.RequestResponses {
					codes = append(codes, aws.ToString(e.ErrorCode))
				}
				return int(aws.ToInt32(out.FailedPutCount)), codes, nil
			})
			ours := NewFirehose(cfg, nil)
			got, ourReqs := run(func(ctx context.Context) (int, []string, error) {
				out, err := ours.PutRecordBatch(ctx, tc.stream, records)
				if err != nil {
					return 0, nil, err
				}
				var codes []string
				for _, e := range out.RequestResponses {
					codes = append(codes, e.ErrorCode)
				}
				return out.FailedPutCount, codes, nil
			})
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Firehose: %+v, the SDK client: %+v", got, want)
			}
			if direct {
				return
			}
			for _, r := range append(sdkReqs, ourReqs...) {
				awsjsontest.VerifySignature(t, r, "firehose")
			}
			awsjsontest.SameRequest(t, sdkReqs[0], ourReqs[0])
		})
	}
}

// TestTheFirehoseClientFindsItsEndpointAsTheSDKDoes resolves the endpoint from Lambda-like environments through
// awsenv, and requires the URL the SDK's firehose client sends to.
func TestTheFirehoseClientFindsItsEndpointAsTheSDKDoes(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"the regional endpoint by default", nil, "https://firehose.eu-west-1.amazonaws.com"},
		{"AWS_ENDPOINT_URL_FIREHOSE first", map[string]string{"AWS_ENDPOINT_URL_FIREHOSE": "http://127.0.0.1:9", "AWS_ENDPOINT_URL": "http://127.0.0.1:8"}, "http://127.0.0.1:9"},
		{"China's partition", map[string]string{"AWS_REGION": "cn-north-1"}, "https://firehose.cn-north-1.amazonaws.com.cn"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"}
			maps.Copy(env, tc.env)
			cfg, err := awsenv.Config(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			if err != nil {
				t.Fatal(err)
			}
			var sdkURL string
			catch := func(r *http.Request) (*http.Response, error) {
				sdkURL = r.URL.Scheme + "://" + r.URL.Host
				return nil, errors.New("caught")
			}
			client := firehose.NewFromConfig(cfg, func(o *firehose.Options) { o.HTTPClient = doer(catch); o.Retryer = aws.NopRetryer{} })
			_, _ = client.PutRecordBatch(context.Background(), &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("s"), Records: []types.Record{{Data: []byte("x")}}})
			if got := NewFirehose(cfg, nil).Endpoint(); got != tc.want || got != sdkURL {
				t.Fatalf("endpoint %s, want %s; the SDK client sent to %s", got, tc.want, sdkURL)
			}
		})
	}
}
