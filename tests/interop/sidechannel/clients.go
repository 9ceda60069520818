package main

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/sirupsen/logrus"
	gitalyauth "gitlab.com/gitlab-org/gitaly/v16/auth"
	"gitlab.com/gitlab-org/gitaly/v16/client"
	"gitlab.com/gitlab-org/gitaly/v16/proto/go/gitalypb"
	"google.golang.org/grpc"
)

// dial connects to GITALY_ADDRESS the way GitLab's Go services do when they
// want sidechannels: DialSidechannel with a registry and a v2 token.
func dial(ctx context.Context) (*grpc.ClientConn, *client.SidechannelRegistry, error) {
	logger := logrus.New()
	logger.Out = io.Discard
	registry := client.NewSidechannelRegistry(logrus.NewEntry(logger))
	var opts []grpc.DialOption
	if token := os.Getenv("GITALY_TOKEN"); token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(gitalyauth.RPCCredentialsV2(token)))
	}
	conn, err := client.DialSidechannel(ctx, os.Getenv("GITALY_ADDRESS"), registry, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("dial: %w", err)
	}
	return conn, registry, nil
}

func repository() *gitalypb.Repository {
	return &gitalypb.Repository{
		StorageName:  os.Getenv("GITALY_STORAGE"),
		RelativePath: os.Getenv("GITALY_REPO"),
	}
}

// recordStats appends the statistics as one JSON line to STATS_FILE.
func recordStats(rpc string, stats *gitalypb.PackfileNegotiationStatistics) error {
	path := os.Getenv("STATS_FILE")
	if path == "" {
		return nil
	}
	line, err := json.Marshal(map[string]any{
		"rpc":          rpc,
		"payload_size": stats.GetPayloadSize(),
		"packets":      stats.GetPackets(),
		"caps":         stats.GetCaps(),
		"wants":        stats.GetWants(),
		"haves":        stats.GetHaves(),
		"shallows":     stats.GetShallows(),
		"deepen":       stats.GetDeepen(),
		"filter":       stats.GetFilter(),
	})
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(append(line, '\n'))
	return err
}

// runSSH is git's transport: stdin/stdout are the git protocol, carried by
// SSHUploadPackWithSidechannel. git passes GIT_PROTOCOL with GIT_SSH_VARIANT=ssh.
func runSSH(args []string) (int32, error) {
	command := ""
	if len(args) > 0 {
		command = args[len(args)-1]
	}
	if !strings.Contains(command, "git-upload-pack") {
		return 0, fmt.Errorf("unsupported remote command %q", command)
	}
	ctx := context.Background()
	conn, registry, err := dial(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	result, err := client.UploadPackWithSidechannelWithResult(ctx, conn, registry, os.Stdin, os.Stdout, os.Stderr,
		&gitalypb.SSHUploadPackWithSidechannelRequest{
			Repository:  repository(),
			GitProtocol: os.Getenv("GIT_PROTOCOL"),
		})
	if err != nil {
		return 0, err
	}
	return result.ExitCode, recordStats("SSHUploadPackWithSidechannel", result.PackfileNegotiationStatistics)
}

// runHTTP serves Smart HTTP for one repository on a free local port (printed on
// stdout) until stdin closes.
func runHTTP() error {
	ctx := context.Background()
	conn, registry, err := dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	front := &smartHTTP{conn: conn, registry: registry}
	go func() { _ = http.Serve(listener, front) }()
	fmt.Printf("http://%s\n", listener.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return listener.Close()
}

type smartHTTP struct {
	conn     *grpc.ClientConn
	registry *client.SidechannelRegistry
}

func (s *smartHTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var err error
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/info/refs"):
		err = s.infoRefs(w, r)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-upload-pack"):
		err = s.uploadPack(w, r)
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "sidechannel http: %s %s: %v\n", r.Method, r.URL.Path, err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func (s *smartHTTP) infoRefs(w http.ResponseWriter, r *http.Request) error {
	if r.URL.Query().Get("service") != "git-upload-pack" {
		return fmt.Errorf("only git-upload-pack is served")
	}
	stream, err := gitalypb.NewSmartHTTPServiceClient(s.conn).InfoRefsUploadPack(r.Context(),
		&gitalypb.InfoRefsRequest{Repository: repository(), GitProtocol: r.Header.Get("Git-Protocol")})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-git-upload-pack-advertisement")
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := w.Write(msg.GetData()); err != nil {
			return err
		}
	}
}

// uploadPack does what Workhorse does: the request body goes over the
// sidechannel, the sidechannel's answer becomes the response body.
func (s *smartHTTP) uploadPack(w http.ResponseWriter, r *http.Request) error {
	body := io.Reader(r.Body)
	if r.Header.Get("Content-Encoding") == "gzip" {
		unzipped, err := gzip.NewReader(r.Body)
		if err != nil {
			return err
		}
		body = unzipped
	}
	w.Header().Set("Content-Type", "application/x-git-upload-pack-result")
	ctx, waiter := s.registry.Register(r.Context(), func(conn client.SidechannelConn) error {
		if _, err := io.Copy(conn, body); err != nil {
			return fmt.Errorf("copy request: %w", err)
		}
		if err := conn.CloseWrite(); err != nil {
			return fmt.Errorf("close request: %w", err)
		}
		if _, err := io.Copy(w, conn); err != nil {
			return fmt.Errorf("copy response: %w", err)
		}
		return nil
	})
	defer waiter.Close()
	response, err := gitalypb.NewSmartHTTPServiceClient(s.conn).PostUploadPackWithSidechannel(ctx,
		&gitalypb.PostUploadPackWithSidechannelRequest{
			Repository:  repository(),
			GitProtocol: r.Header.Get("Git-Protocol"),
		})
	if err != nil {
		return err
	}
	if err := waiter.Close(); err != nil {
		return fmt.Errorf("sidechannel: %w", err)
	}
	return recordStats("PostUploadPackWithSidechannel", response.GetPackfileNegotiationStatistics())
}
