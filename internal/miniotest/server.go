package miniotest

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/agent-audit/agent-audit/internal/proctest"
)

// Region is the region clients sign for. MinIO without a configured region accepts any; the function under test
// signs for its own AWS_REGION.
const Region = "eu-west-1"

// startTimeout bounds how long Start waits for MinIO to serve S3 (it takes about a second on a warm machine).
const startTimeout = 60 * time.Second

// Server is one running MinIO. Its fields are read-only.
type Server struct {
	// Endpoint is the S3 API's base URL, http://127.0.0.1:<port>.
	Endpoint string
	// AccessKey and SecretKey are the root credentials, generated at random for this server.
	AccessKey, SecretKey string

	logs *proctest.Output
}

// Start runs a fresh MinIO with an empty temporary data directory and stops it (its whole process group) when
// the test ends. It fails the test if MinIO cannot be installed or does not serve S3 within a minute.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary(t)
	dataDir := t.TempDir() // registered before the kill below, so removed after MinIO is gone
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // a free port can be taken between probe and bind
		s, err := start(t, bin, dataDir)
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("miniotest: %v", lastErr)
	return nil
}

func start(t testing.TB, bin, dataDir string) (*Server, error) {
	apiPort, consolePort := proctest.FreePort(), proctest.FreePort()
	if apiPort == 0 || consolePort == 0 {
		return nil, fmt.Errorf("no free port on 127.0.0.1")
	}
	s := &Server{
		Endpoint:  "http://127.0.0.1:" + strconv.Itoa(apiPort),
		AccessKey: "minio-" + randomToken(8),
		SecretKey: randomToken(24),
		logs:      &proctest.Output{},
	}
	cmd := exec.Command(bin, "server", "--quiet",
		"--address", "127.0.0.1:"+strconv.Itoa(apiPort),
		"--console-address", "127.0.0.1:"+strconv.Itoa(consolePort),
		dataDir)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dataDir,
		"MINIO_ROOT_USER=" + s.AccessKey,
		"MINIO_ROOT_PASSWORD=" + s.SecretKey,
		"MINIO_BROWSER=off", // no console: the tests need S3 only, and it starts faster
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=on", // no interactive banners or update checks
	}
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	exited, stop, err := proctest.StartGroup(cmd)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}

	if err := s.waitReady(exited); err != nil {
		stop()
		return nil, fmt.Errorf("%w\nminio output:\n%s", err, s.logs.String())
	}
	t.Cleanup(stop)
	return s, nil
}

// waitReady polls the liveness endpoint, then lists buckets with the root credentials: MinIO reports live before
// its object layer accepts requests.
func (s *Server) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	httpc := &http.Client{Timeout: 2 * time.Second}
	client := s.newClient()
	for {
		select {
		case <-exited:
			return fmt.Errorf("minio exited before serving S3")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("minio did not serve S3 at %s within %s", s.Endpoint, startTimeout)
		}
		if resp, err := httpc.Get(s.Endpoint + "/minio/health/live"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, err := client.ListBuckets(ctx, &s3.ListBucketsInput{})
				cancel()
				if err == nil {
					return nil
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Client is a real S3 client for the server: root credentials, path-style addressing, BaseEndpoint.
func (s *Server) Client(t testing.TB) *s3.Client {
	t.Helper()
	return s.newClient()
}

func (s *Server) newClient() *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
}

// Logs returns what MinIO wrote to stdout and stderr so far.
func (s *Server) Logs() string { return s.logs.String() }

// randomToken returns n random bytes as lowercase base32: credentials made fresh per server, never literals.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
