package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"

	"github.com/sirupsen/logrus"
	"gitlab.com/gitlab-org/gitaly/v16/client"
	"gitlab.com/gitlab-org/gitaly/v16/proto/go/gitalypb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// echoServer answers PostUploadPackWithSidechannel over a sidechannel opened
// with Gitaly's client.OpenServerSidechannel: a request "size N" gets N bytes
// of the pattern i%251, anything else is echoed after "echo: ". The statistics
// report the request size and, as its only capability, the request's
// git_protocol.
type echoServer struct {
	gitalypb.UnimplementedSmartHTTPServiceServer
}

func (echoServer) PostUploadPackWithSidechannel(
	ctx context.Context,
	req *gitalypb.PostUploadPackWithSidechannelRequest,
) (*gitalypb.PostUploadPackWithSidechannelResponse, error) {
	conn, err := client.OpenServerSidechannel(ctx)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "open sidechannel: %v", err)
	}
	defer conn.Close()
	request, err := io.ReadAll(conn)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "read request: %v", err)
	}
	if size, ok := requestedSize(request); ok {
		err = writePattern(conn, size)
	} else {
		_, err = conn.Write(append([]byte("echo: "), request...))
	}
	if err != nil {
		return nil, status.Errorf(codes.Internal, "write response: %v", err)
	}
	if err := conn.Close(); err != nil {
		return nil, status.Errorf(codes.Internal, "close sidechannel: %v", err)
	}
	return &gitalypb.PostUploadPackWithSidechannelResponse{
		PackfileNegotiationStatistics: &gitalypb.PackfileNegotiationStatistics{
			PayloadSize: int64(len(request)),
			Caps:        []string{req.GetGitProtocol()},
		},
	}, nil
}

func requestedSize(request []byte) (int, bool) {
	rest, found := bytes.CutPrefix(request, []byte("size "))
	if !found {
		return 0, false
	}
	size, err := strconv.Atoi(string(rest))
	return size, err == nil
}

func writePattern(w io.Writer, size int) error {
	chunk := make([]byte, 251*1024)
	for i := range chunk {
		chunk[i] = byte(i % 251)
	}
	for size > 0 {
		n := min(size, len(chunk))
		if _, err := w.Write(chunk[:n]); err != nil {
			return err
		}
		size -= n
	}
	return nil
}

// runServer serves on a Unix socket until killed; prints "listening" when ready.
func runServer(socket string) error {
	logger := logrus.New()
	logger.Out = io.Discard
	server := grpc.NewServer(client.SidechannelServer(logrus.NewEntry(logger), insecure.NewCredentials()))
	gitalypb.RegisterSmartHTTPServiceServer(server, echoServer{})
	_ = os.Remove(socket)
	listener, err := net.Listen("unix", socket)
	if err != nil {
		return err
	}
	fmt.Println("listening")
	return server.Serve(listener)
}
