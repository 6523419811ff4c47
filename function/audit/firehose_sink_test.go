package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/agent-audit/agent-audit/function/awsjson"
	"github.com/agent-audit/agent-audit/internal/firehosetest"
)

const stream = "agent-audit-test"

func records(n, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		r := fmt.Appendf(nil, `{"i":%d,"pad":"`, i)
		r = append(r, bytes.Repeat([]byte("x"), max(0, size-len(r)-3))...)
		out[i] = append(r, "\"}\n"...)
	}
	return out
}

func fastSink(srv *firehosetest.Server, opts ...FirehoseOption) *FirehoseSink {
	return NewFirehoseSink(awsjson.NewFirehose(srv.Config(), nil), stream, append([]FirehoseOption{WithBackoff(time.Millisecond, 5*time.Millisecond)}, opts...)...)
}

// code is the AWS error code err carries, "" when none.
func code(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func deadline(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

func TestFirehoseSinkDeliversThroughFaults(t *testing.T) {
	tests := []struct {
		name      string
		faults    []firehosetest.Fault
		wantCalls int
	}{
		{"accepted at once", nil, 1},
		{"throttled, then accepted", []firehosetest.Fault{{Status: 500, Code: "ServiceUnavailableException"}, {Status: 400, Code: "ThrottlingException"}, {Status: 400, Code: "LimitExceededException"}}, 4},
		{"a 5xx, then accepted", []firehosetest.Fault{{Status: 500, Code: "InternalFailure"}}, 2},
		{"a 502 without a known code, then accepted", []firehosetest.Fault{{Status: 502, Code: "BadGateway"}}, 2},
		{"a 429, then accepted", []firehosetest.Fault{{Status: 429, Code: "TooManyRequestsException"}}, 2},
		{"a reset connection, then accepted", []firehosetest.Fault{{Reset: true}}, 2},
		{"a hung call times out, then accepted", []firehosetest.Fault{{Delay: time.Second}}, 2},
		{"a partial batch failure re-sends only the failed records", []firehosetest.Fault{{FailRecords: []int{1, 3}}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := firehosetest.New(t, stream)
			srv.Inject(tt.faults...)
			ctx, cancel := deadline(10 * time.Second)
			defer cancel()
			in := records(5, 100)
			if err := fastSink(srv, WithAttemptTimeout(200*time.Millisecond)).Deliver(ctx, in); err != nil {
				t.Fatalf("Deliver: %v", err)
			}
			got := srv.Records(stream)
			if len(got) != len(in) || srv.Calls() != tt.wantCalls {
				t.Fatalf("stored %d records in %d calls, want %d in %d", len(got), srv.Calls(), len(in), tt.wantCalls)
			}
			seen := map[string]int{}
			for _, r := range got {
				seen[string(r)]++
			}
			for _, r := range in {
				if seen[string(r)] != 1 {
					t.Fatalf("record %q stored %d times", r, seen[string(r)])
				}
			}
		})
	}
}

func TestAnAcknowledgementCutOffIsRetriedNotLost(t *testing.T) {
	srv := firehosetest.New(t, stream)
	srv.Inject(firehosetest.Fault{StoreThenCut: true})
	ctx, cancel := deadline(10 * time.Second)
	defer cancel()
	in := records(3, 50)
	if err := fastSink(srv).Deliver(ctx, in); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	// Stored by the cut-off call and again by the retry: a duplicate the readers drop, where giving up would
	// have reported a failure for records that may not have been stored.
	if got := len(srv.Records(stream)); got != 2*len(in) || srv.Calls() != 2 {
		t.Fatalf("stored %d records in %d calls, want %d in 2", got, srv.Calls(), 2*len(in))
	}
}

func TestAHungCallLeavesTimeForARetry(t *testing.T) {
	// The default attempt timeout is as long as the default ship reserve: one hung call must not take it all.
	srv := firehosetest.New(t, stream)
	srv.Inject(firehosetest.Fault{Delay: time.Minute})
	ctx, cancel := deadline(4800 * time.Millisecond)
	defer cancel()
	in := records(2, 50)
	if err := NewFirehoseSink(awsjson.NewFirehose(srv.Config(), nil), stream).Deliver(ctx, in); err != nil {
		t.Fatalf("Deliver: %v after %d calls", err, srv.Calls())
	}
	if got := len(srv.Records(stream)); got != len(in) || srv.Calls() != 2 {
		t.Fatalf("stored %d records in %d calls, want %d in 2", got, srv.Calls(), len(in))
	}
}

func TestFirehoseSinkGivesUp(t *testing.T) {
	t.Run("when the deadline leaves no room for another attempt", func(t *testing.T) {
		srv := firehosetest.New(t, stream)
		srv.Throttle(1000)
		ctx, cancel := deadline(300 * time.Millisecond)
		defer cancel()
		err := fastSink(srv).Deliver(ctx, records(3, 50))
		if err == nil || !strings.Contains(err.Error(), "3 of 3 records not delivered") || !strings.Contains(err.Error(), "ServiceUnavailableException") {
			t.Fatalf("err %v", err)
		}
		if len(srv.Records(stream)) != 0 {
			t.Fatal("records stored despite the failure")
		}
	})
	t.Run("naming Firehose's last answer when the last attempt timed out", func(t *testing.T) {
		srv := firehosetest.New(t, stream)
		// A refusal, then answers held past every attempt's budget: the timeouts are not the cause.
		srv.Inject(firehosetest.Fault{Status: 503, Code: "ServiceUnavailableException"})
		for range 100 {
			srv.Inject(firehosetest.Fault{Delay: time.Minute})
		}
		ctx, cancel := deadline(300 * time.Millisecond)
		defer cancel()
		err := fastSink(srv, WithAttemptTimeout(50*time.Millisecond)).Deliver(ctx, records(3, 50))
		if err == nil || !strings.Contains(err.Error(), "3 of 3 records not delivered") || !strings.Contains(err.Error(), "ServiceUnavailableException") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("counting the failed records of a batch that never fully succeeded", func(t *testing.T) {
		srv := firehosetest.New(t, stream)
		for range 1000 {
			srv.Inject(firehosetest.Fault{FailRecords: []int{0}}) // the first record of every attempt fails
		}
		ctx, cancel := deadline(300 * time.Millisecond)
		defer cancel()
		err := fastSink(srv).Deliver(ctx, records(3, 50))
		if err == nil || !strings.Contains(err.Error(), "1 of 3 records not delivered") {
			t.Fatalf("err %v", err)
		}
		if got := len(srv.Records(stream)); got != 2 {
			t.Fatalf("stored %d records, want the 2 that never failed", got)
		}
	})
	t.Run("counting the later batches it never attempted", func(t *testing.T) {
		srv := firehosetest.New(t, stream)
		srv.Inject(firehosetest.Fault{}, firehosetest.Fault{Status: 400, Code: "InvalidArgumentException"})
		ctx, cancel := deadline(10 * time.Second)
		defer cancel()
		err := fastSink(srv).Deliver(ctx, records(1201, 64))
		if err == nil || !strings.Contains(err.Error(), "701 of 1201 records not delivered") || srv.Calls() != 2 {
			t.Fatalf("err %v after %d calls, want 701 undelivered after 2", err, srv.Calls())
		}
	})
	t.Run("at once on an error retrying cannot fix", func(t *testing.T) {
		srv := firehosetest.New(t, "other-stream")
		ctx, cancel := deadline(10 * time.Second)
		defer cancel()
		err := fastSink(srv).Deliver(ctx, records(2, 50))
		if code(err) != "ResourceNotFoundException" || srv.Calls() != 1 {
			t.Fatalf("err %v after %d calls, want ResourceNotFoundException after 1", err, srv.Calls())
		}
	})
	t.Run("at once on an invalid argument", func(t *testing.T) {
		srv := firehosetest.New(t, stream)
		srv.Inject(firehosetest.Fault{Status: 400, Code: "InvalidArgumentException"})
		ctx, cancel := deadline(10 * time.Second)
		defer cancel()
		err := fastSink(srv).Deliver(ctx, records(2, 50))
		if code(err) != "InvalidArgumentException" || srv.Calls() != 1 || !strings.Contains(err.Error(), "2 of 2 records not delivered") {
			t.Fatalf("err %v after %d calls, want InvalidArgumentException after 1", err, srv.Calls())
		}
	})
	t.Run("after the attempt bound when there is no deadline", func(t *testing.T) {
		srv := firehosetest.New(t, stream)
		for i := 0; i < 10; i++ {
			srv.Inject(firehosetest.Fault{Status: 500, Code: "InternalFailure"})
		}
		err := fastSink(srv, WithMaxAttempts(3)).Deliver(context.Background(), records(1, 50))
		if err == nil || srv.Calls() != 3 {
			t.Fatalf("err %v after %d calls, want failure after 3", err, srv.Calls())
		}
	})
}

func TestFirehoseSinkBatchesWithinFirehoseLimits(t *testing.T) {
	tests := []struct {
		name      string
		in        [][]byte
		wantCalls int
	}{
		{"1,201 small records make three calls of at most 500", records(1201, 64), 3},
		{"nine 900 KiB records stay under 4 MiB a call", records(9, 900*1024), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := firehosetest.New(t, stream)
			ctx, cancel := deadline(30 * time.Second)
			defer cancel()
			if err := fastSink(srv).Deliver(ctx, tt.in); err != nil {
				t.Fatal(err)
			}
			if got := len(srv.Records(stream)); got != len(tt.in) || srv.Calls() != tt.wantCalls {
				t.Fatalf("stored %d in %d calls, want %d in %d", got, srv.Calls(), len(tt.in), tt.wantCalls)
			}
		})
	}
}

func TestALostAcknowledgementDuplicatesWithTheSameBatchKey(t *testing.T) {
	// Firehose stored the batch but the answer was lost: the retry stores it again. The records are byte-identical,
	// so readers de-duplicate them on (batch_key, part).
	srv := firehosetest.New(t, stream)
	srv.Inject(firehosetest.Fault{Status: 500, Code: "InternalFailure", StoreThenFail: true})
	recs, err := NewEncoder(0).Encode(context.Background(), stubTrace(2, 10), false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := deadline(5 * time.Second)
	defer cancel()
	if err := fastSink(srv).Deliver(ctx, recs); err != nil {
		t.Fatal(err)
	}
	got := srv.Records(stream)
	if len(got) != 2 || !bytes.Equal(got[0], got[1]) || !batchKeyValue.Match(got[0]) {
		t.Fatalf("want the same record twice, got %d records", len(got))
	}
}
