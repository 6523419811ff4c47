package firehosetest

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"
)

const stream = "audit"

func batch(sizes ...int) *firehose.PutRecordBatchInput {
	in := &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(stream)}
	for i, n := range sizes {
		in.Records = append(in.Records, types.Record{Data: bytes.Repeat([]byte{byte('a' + i%26)}, n)})
	}
	return in
}

func many(n, size int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = size
	}
	return out
}

func TestTheRealClientReadsEveryAnswer(t *testing.T) {
	tests := []struct {
		name       string
		faults     []Fault
		in         *firehose.PutRecordBatchInput
		wantCode   string // the API error code the SDK reports; "" for success
		wantFailed []int  // record indexes answered with an ErrorCode
		wantStored int
	}{
		{"a batch is stored and every record gets an id", nil, batch(10, 20, 30), "", nil, 3},
		{"failed records carry an error code and the rest are stored", []Fault{{FailRecords: []int{0, 2}}}, batch(10, 20, 30), "", []int{0, 2}, 1},
		{"a throttled call is ServiceUnavailableException", []Fault{{Status: 500, Code: "ServiceUnavailableException"}}, batch(10), "ServiceUnavailableException", nil, 0},
		{"an unknown stream is ResourceNotFoundException", nil, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("nope"), Records: batch(1).Records}, "ResourceNotFoundException", nil, 0},
		{"501 records are refused", nil, batch(many(501, 1)...), "InvalidArgumentException", nil, 0},
		{"500 records are accepted", nil, batch(many(500, 1)...), "", nil, 500},
		{"a batch over 4 MiB is refused", nil, batch(many(5, 900*1024)...), "InvalidArgumentException", nil, 0},
		{"a record over 1,000 KiB is refused", nil, batch(MaxRecordBytes + 1), "InvalidArgumentException", nil, 0},
		{"a record of exactly 1,000 KiB is accepted", nil, batch(MaxRecordBytes), "", nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := New(t, stream)
			srv.Inject(tt.faults...)
			out, err := srv.Client().PutRecordBatch(context.Background(), tt.in)
			if got := len(srv.Records(stream)); got != tt.wantStored {
				t.Fatalf("stored %d records, want %d", got, tt.wantStored)
			}
			if tt.wantCode != "" {
				var apiErr smithy.APIError
				if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.wantCode {
					t.Fatalf("err %v, want %s", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if int(aws.ToInt32(out.FailedPutCount)) != len(tt.wantFailed) || len(out.RequestResponses) != len(tt.in.Records) {
				t.Fatalf("FailedPutCount %d with %d responses", aws.ToInt32(out.FailedPutCount), len(out.RequestResponses))
			}
			failed := map[int]bool{}
			for _, i := range tt.wantFailed {
				failed[i] = true
			}
			for i, rr := range out.RequestResponses {
				if failed[i] != (rr.ErrorCode != nil) || failed[i] == (rr.RecordId != nil) {
					t.Fatalf("response %d: %+v", i, rr)
				}
			}
		})
	}
}

func TestTypedErrorsAndSingleRecords(t *testing.T) {
	srv := New(t, stream)
	client := srv.Client()
	_, err := client.PutRecordBatch(context.Background(), batch(MaxRecordBytes+1))
	var invalid *types.InvalidArgumentException
	if !errors.As(err, &invalid) {
		t.Fatalf("err %v, want the SDK's typed InvalidArgumentException", err)
	}
	out, err := client.PutRecord(context.Background(), &firehose.PutRecordInput{DeliveryStreamName: aws.String(stream), Record: &types.Record{Data: []byte("one\n")}})
	if err != nil || aws.ToString(out.RecordId) == "" {
		t.Fatalf("PutRecord: %v %+v", err, out)
	}
	if got := srv.Records(stream); len(got) != 1 || string(got[0]) != "one\n" {
		t.Fatalf("stored %q, want the decoded record", got)
	}
	if srv.Calls() != 2 || srv.RecordsReceived() != 1 {
		t.Fatalf("calls %d, received %d; want 2 calls, 1 record received (the refused batch never got that far)", srv.Calls(), srv.RecordsReceived())
	}
}

func TestFaultsApplyToTheNextCallsInOrder(t *testing.T) {
	srv := New(t, stream)
	srv.Throttle(2)
	srv.Inject(Fault{Reset: true}, Fault{Status: 500, Code: "InternalFailure", StoreThenFail: true})
	client := srv.Client()
	var codes []string
	for range 5 {
		_, err := client.PutRecordBatch(context.Background(), batch(5))
		var apiErr smithy.APIError
		switch {
		case err == nil:
			codes = append(codes, "ok")
		case errors.As(err, &apiErr):
			codes = append(codes, apiErr.ErrorCode())
		default:
			codes = append(codes, "transport")
		}
	}
	want := "ServiceUnavailableException ServiceUnavailableException transport InternalFailure ok"
	if got := strings.Join(codes, " "); got != want {
		t.Fatalf("outcomes %q, want %q", got, want)
	}
	if got := len(srv.Records(stream)); got != 2 {
		t.Fatalf("stored %d records, want 2 (the lost acknowledgement and the last call)", got)
	}
}

func TestUnsignedAndMalformedRequestsAreRefused(t *testing.T) {
	srv := New(t, stream)
	tests := []struct {
		name, target, contentType, body string
		wantType                        string
	}{
		{"an unsigned request", "Firehose_20150804.PutRecordBatch", "application/x-amz-json-1.1", `{}`, "MissingAuthenticationTokenException"},
		{"an unknown operation", "Firehose_20150804.DeleteEverything", "application/x-amz-json-1.1", `{}`, "UnknownOperationException"},
		{"a wrong content type", "Firehose_20150804.PutRecordBatch", "application/json", `{}`, "SerializationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(tt.body))
			req.Header.Set("X-Amz-Target", tt.target)
			req.Header.Set("Content-Type", tt.contentType)
			if tt.wantType != "MissingAuthenticationTokenException" {
				req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Amzn-ErrorType") != tt.wantType {
				t.Fatalf("status %d type %q, want 400 %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), tt.wantType)
			}
		})
	}
}
