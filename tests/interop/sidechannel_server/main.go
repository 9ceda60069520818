// Command sidechannel_server is a sidechannel server independent of ours,
// for testing our client library's sidechannel helpers: a gRPC server built
// with Gitaly's published client.SidechannelServer whose
// SSHUploadPackWithSidechannel opens the sidechannel with
// client.OpenServerSidechannel, runs `git upload-pack` on it (the request
// unframed by Gitaly's ServerConn) and sends git's output back side-band
// framed (band 1 stdout, band 2 stderr).
//
//	sidechannel_server SOCKET STORAGE_DIR
//
// It prints "listening" once it accepts connections and serves until killed.
// The response's statistics report how many request bytes arrived and, as
// the only capability, "go-sidechannel-server".
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/sirupsen/logrus"
	"gitlab.com/gitlab-org/gitaly/v16/client"
	"gitlab.com/gitlab-org/gitaly/v16/proto/go/gitalypb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: sidechannel_server SOCKET STORAGE_DIR")
		os.Exit(2)
	}
	if err := serve(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintf(os.Stderr, "sidechannel_server: %v\n", err)
		os.Exit(1)
	}
}

func serve(socket, storage string) error {
	logger := logrus.New()
	logger.Out = io.Discard
	server := grpc.NewServer(client.SidechannelServer(logrus.NewEntry(logger), insecure.NewCredentials()))
	gitalypb.RegisterSSHServiceServer(server, &sshServer{storage: storage})
	_ = os.Remove(socket)
	listener, err := net.Listen("unix", socket)
	if err != nil {
		return err
	}
	fmt.Println("listening")
	return server.Serve(listener)
}

type sshServer struct {
	gitalypb.UnimplementedSSHServiceServer
	storage string
}

func (s *sshServer) SSHUploadPackWithSidechannel(
	ctx context.Context,
	req *gitalypb.SSHUploadPackWithSidechannelRequest,
) (*gitalypb.SSHUploadPackWithSidechannelResponse, error) {
	conn, err := client.OpenServerSidechannel(ctx)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "open sidechannel: %v", err)
	}
	defer conn.Close()

	repoPath := filepath.Join(s.storage, filepath.Clean("/"+req.GetRepository().GetRelativePath()))
	cmd := exec.CommandContext(ctx, "git", "upload-pack", repoPath)
	cmd.Env = append(os.Environ(), "GIT_PROTOCOL="+req.GetGitProtocol())
	sideband := &sidebandWriter{w: conn}
	cmd.Stdout = sideband.band(1)
	cmd.Stderr = sideband.band(2)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, status.Errorf(codes.Internal, "stdin: %v", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, status.Errorf(codes.Internal, "start git: %v", err)
	}
	// The client may keep its side open after git is done: copy without
	// waiting for the end of the request.
	var received atomic.Int64
	go func() {
		n, _ := io.Copy(stdin, conn)
		received.Add(n)
		stdin.Close()
	}()
	if err := cmd.Wait(); err != nil {
		return nil, status.Errorf(codes.Internal, "git upload-pack: %v", err)
	}
	if err := conn.Close(); err != nil {
		return nil, status.Errorf(codes.Internal, "close sidechannel: %v", err)
	}
	return &gitalypb.SSHUploadPackWithSidechannelResponse{
		PackfileNegotiationStatistics: &gitalypb.PackfileNegotiationStatistics{
			PayloadSize: received.Load(),
			Caps:        []string{"go-sidechannel-server"},
		},
	}, nil
}

// sidebandWriter frames writes as side-band-64k pkt-lines on w, one band per
// writer, serialised because git's stdout and stderr are copied concurrently.
type sidebandWriter struct {
	mu sync.Mutex
	w  io.Writer
}

type bandWriter struct {
	s    *sidebandWriter
	band byte
}

func (s *sidebandWriter) band(b byte) io.Writer { return bandWriter{s: s, band: b} }

// maxSidebandData is the largest payload of one side-band-64k packet.
const maxSidebandData = 65520 - 5

func (b bandWriter) Write(p []byte) (int, error) {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	written := 0
	for len(p) > 0 {
		n := min(len(p), maxSidebandData)
		header := fmt.Sprintf("%04x", n+5)
		packet := append(append([]byte(header), b.band), p[:n]...)
		if _, err := b.s.w.Write(packet); err != nil {
			return written, err
		}
		written += n
		p = p[n:]
	}
	return written, nil
}
