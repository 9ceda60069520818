// Command txvoter stands in for Praefect's transaction service in tests:
// it connects to a Gitaly with the backchannel handshake (the "backchannel"
// magic, then a Yamux session whose first client stream carries the gRPC
// connection), serves gitaly.RefTransaction on the streams the server opens
// back, and proxies every call it receives on its own socket to the Gitaly
// over that connection, metadata included. So a call made through it with
// transaction metadata makes the Gitaly vote back to txvoter.
//
//	txvoter LISTEN_SOCKET GITALY_SOCKET
//
// It prints "listening" once it accepts connections. The method
// /txvoter.Voter/Control (JSON in and out) sets how a transaction's votes
// are answered ({"id": 7, "answer": "ABORT"}: COMMIT, ABORT, STOP or
// "ERROR <message>"), which transaction calls without transaction metadata
// take part in from now on ({"inject": {"id": 7, "node": "n", "primary":
// true}}; {"inject": null} for none: for clients such as gitaly-ssh that
// cannot add metadata) and returns every vote and stop seen so far.
package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/hashicorp/yamux"
	"gitlab.com/gitlab-org/gitaly/v16/proto/go/gitalypb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: txvoter LISTEN_SOCKET GITALY_SOCKET")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintf(os.Stderr, "txvoter: %v\n", err)
		os.Exit(1)
	}
}

type vote struct {
	ID    uint64 `json:"id"`
	Node  string `json:"node"`
	Phase string `json:"phase"`
	Hash  string `json:"hash"`
}

type voter struct {
	gitalypb.UnimplementedRefTransactionServer
	mu      sync.Mutex
	votes   []vote
	stops   []uint64
	answers map[uint64]string
}

func (v *voter) VoteTransaction(_ context.Context, req *gitalypb.VoteTransactionRequest) (*gitalypb.VoteTransactionResponse, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.votes = append(v.votes, vote{
		ID:    req.GetTransactionId(),
		Node:  req.GetNode(),
		Phase: req.GetPhase().String(),
		Hash:  hex.EncodeToString(req.GetReferenceUpdatesHash()),
	})
	answer := v.answers[req.GetTransactionId()]
	switch {
	case answer == "" || answer == "COMMIT":
		return &gitalypb.VoteTransactionResponse{State: gitalypb.VoteTransactionResponse_COMMIT}, nil
	case answer == "ABORT":
		return &gitalypb.VoteTransactionResponse{State: gitalypb.VoteTransactionResponse_ABORT}, nil
	case answer == "STOP":
		return &gitalypb.VoteTransactionResponse{State: gitalypb.VoteTransactionResponse_STOP}, nil
	default:
		return nil, status.Error(codes.FailedPrecondition, strings.TrimPrefix(answer, "ERROR "))
	}
}

func (v *voter) StopTransaction(_ context.Context, req *gitalypb.StopTransactionRequest) (*gitalypb.StopTransactionResponse, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.stops = append(v.stops, req.GetTransactionId())
	// As with Praefect, a stopped transaction answers every later vote with STOP.
	v.answers[req.GetTransactionId()] = "STOP"
	return &gitalypb.StopTransactionResponse{}, nil
}

// backchannelCredentials runs the client side of the backchannel handshake.
type backchannelCredentials struct{ server *grpc.Server }

func (c backchannelCredentials) ClientHandshake(_ context.Context, _ string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	if _, err := conn.Write([]byte("backchannel")); err != nil {
		return nil, nil, err
	}
	config := yamux.DefaultConfig()
	config.LogOutput = io.Discard
	session, err := yamux.Client(conn, config)
	if err != nil {
		return nil, nil, err
	}
	stream, err := session.Open()
	if err != nil {
		return nil, nil, err
	}
	go func() { _ = c.server.Serve(session) }()
	return stream, insecureInfo{}, nil
}

func (backchannelCredentials) ServerHandshake(net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("client only")
}
func (backchannelCredentials) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "insecure"}
}
func (c backchannelCredentials) Clone() credentials.TransportCredentials { return c }
func (backchannelCredentials) OverrideServerName(string) error           { return nil }

type insecureInfo struct{ credentials.CommonAuthInfo }

func (insecureInfo) AuthType() string { return "insecure" }

// frame is a message passed through unparsed.
type frame struct{ payload []byte }

type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return v.(*frame).payload, nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	v.(*frame).payload = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

type transaction struct {
	ID      uint64 `json:"id"`
	Node    string `json:"node"`
	Primary bool   `json:"primary"`
}

type proxy struct {
	conn   *grpc.ClientConn
	voter  *voter
	mu     sync.Mutex
	inject *transaction
}

func (p *proxy) handle(_ interface{}, ss grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(ss)
	if method == "/txvoter.Voter/Control" {
		return p.control(ss)
	}
	md, _ := metadata.FromIncomingContext(ss.Context())
	out := metadata.MD{}
	for key, values := range md {
		if strings.HasPrefix(key, ":") || key == "content-type" || key == "user-agent" || key == "te" {
			continue
		}
		out[key] = values
	}
	p.mu.Lock()
	inject := p.inject
	p.mu.Unlock()
	if _, ok := out["gitaly-reference-transaction"]; !ok && inject != nil {
		serialized, err := json.Marshal(inject)
		if err != nil {
			return err
		}
		out.Set("gitaly-reference-transaction", base64.StdEncoding.EncodeToString(serialized))
	}
	ctx, cancel := context.WithCancel(metadata.NewOutgoingContext(ss.Context(), out))
	defer cancel()
	cs, err := p.conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method, grpc.ForceCodec(rawCodec{}))
	if err != nil {
		return err
	}
	go func() {
		for {
			f := &frame{}
			if err := ss.RecvMsg(f); err != nil {
				if errors.Is(err, io.EOF) {
					_ = cs.CloseSend()
				} else {
					cancel()
				}
				return
			}
			if err := cs.SendMsg(f); err != nil {
				return
			}
		}
	}()
	for {
		f := &frame{}
		if err := cs.RecvMsg(f); err != nil {
			ss.SetTrailer(cs.Trailer())
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := ss.SendMsg(f); err != nil {
			return err
		}
	}
}

func (p *proxy) control(ss grpc.ServerStream) error {
	f := &frame{}
	if err := ss.RecvMsg(f); err != nil {
		return err
	}
	var req struct {
		ID     uint64           `json:"id"`
		Answer string           `json:"answer"`
		Inject *json.RawMessage `json:"inject"`
	}
	if len(f.payload) > 0 {
		if err := json.Unmarshal(f.payload, &req); err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
	}
	if req.Inject != nil {
		var tx *transaction
		if err := json.Unmarshal(*req.Inject, &tx); err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		p.mu.Lock()
		p.inject = tx
		p.mu.Unlock()
	}
	v := p.voter
	v.mu.Lock()
	if req.Answer != "" {
		v.answers[req.ID] = req.Answer
	}
	body, err := json.Marshal(map[string]interface{}{"votes": v.votes, "stops": v.stops})
	v.mu.Unlock()
	if err != nil {
		return err
	}
	return ss.SendMsg(&frame{payload: body})
}

func run(listen, target string) error {
	v := &voter{answers: map[uint64]string{}}
	callbacks := grpc.NewServer()
	gitalypb.RegisterRefTransactionServer(callbacks, v)
	conn, err := grpc.Dial("unix://"+target, grpc.WithTransportCredentials(backchannelCredentials{server: callbacks}))
	if err != nil {
		return err
	}
	defer conn.Close()
	p := &proxy{conn: conn, voter: v}
	server := grpc.NewServer(grpc.UnknownServiceHandler(p.handle), grpc.ForceServerCodec(rawCodec{}))
	_ = os.Remove(listen)
	lis, err := net.Listen("unix", listen)
	if err != nil {
		return err
	}
	fmt.Println("listening")
	return server.Serve(lis)
}
