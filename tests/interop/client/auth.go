package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"strconv"
	"time"

	"gitlab.com/gitlab-org/gitaly/v16/client"
	"gitlab.com/gitlab-org/gitaly/v16/proto/go/gitalypb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// runAuth checks token v2 enforcement. It needs the server's real token:
// the right token is the control, the others must be turned away.
func runAuth(s *session) {
	if s.opts.token == "" {
		s.rep.record("token_given", nil, nil, "the auth scenario needs -token (the server's secret)")
		return
	}
	probe(s, "right_token", s.conn, codes.OK)
	withConn(s, "wrong_token", dialToken(s, s.opts.token+"-wrong"), codes.PermissionDenied)
	withConn(s, "no_credentials", dialToken(s, ""), codes.Unauthenticated)
	stale := fixedHeader(v2Header(s.opts.token, time.Now().Add(-5*time.Minute)))
	withConn(s, "stale_token", dialWith(s, grpc.WithPerRPCCredentials(stale)), codes.PermissionDenied)
	malformed := fixedHeader("Bearer not-a-token")
	withConn(s, "malformed_token", dialWith(s, grpc.WithPerRPCCredentials(malformed)), codes.Unauthenticated)
}

// withConn probes over conn (when it dialled) and closes it.
func withConn(s *session, label string, conn *grpc.ClientConn, want codes.Code) {
	if conn == nil {
		return
	}
	defer conn.Close()
	probe(s, label, conn, want)
}

// probe makes a health check and a repository call; both must end in want.
func probe(s *session, label string, conn *grpc.ClientConn, want codes.Code) {
	_, err := healthpb.NewHealthClient(conn).Check(s.call(), &healthpb.HealthCheckRequest{})
	recordCode(s, label+".health", err, want)

	_, err = gitalypb.NewRepositoryServiceClient(conn).RepositoryExists(s.call(), &gitalypb.RepositoryExistsRequest{
		Repository: s.hashedRepository(),
	})
	recordCode(s, label+".repository_exists", err, want)
}

func recordCode(s *session, step string, err error, want codes.Code) {
	if want == codes.OK {
		s.rep.expectOK(step, err, nil, nil)
		return
	}
	s.rep.expectCode(step, err, want)
}

func dialToken(s *session, token string) *grpc.ClientConn {
	conn, err := dial(s.opts.address, token)
	if err != nil {
		s.rep.record("dial", err, nil, err.Error())
	}
	return conn
}

func dialWith(s *session, option grpc.DialOption) *grpc.ClientConn {
	conn, err := client.Dial(s.opts.address, []grpc.DialOption{option})
	if err != nil {
		s.rep.record("dial", err, nil, err.Error())
	}
	return conn
}

// v2Header signs issuedAt the way token v2 does, for tokens gitalyauth will
// not make (it always uses the current time).
func v2Header(secret string, issuedAt time.Time) string {
	message := strconv.FormatInt(issuedAt.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(message))
	return fmt.Sprintf("Bearer v2.%x.%s", mac.Sum(nil), message)
}

// fixedHeader sends the same authorization header with every call.
type fixedHeader string

func (h fixedHeader) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": string(h)}, nil
}

func (fixedHeader) RequireTransportSecurity() bool { return false }
