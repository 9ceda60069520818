package main

import (
	"gitlab.com/gitlab-org/gitaly/v16/proto/go/gitalypb"
	"google.golang.org/grpc/codes"
)

// runErrors checks that bad requests fail with the codes Gitaly 16.7 uses.
func runErrors(s *session) {
	rs := gitalypb.NewRepositoryServiceClient(s.conn)
	missing := s.hashedRepository()
	escaping := func(path string) *gitalypb.Repository {
		return &gitalypb.Repository{StorageName: s.opts.storage, RelativePath: path}
	}

	_, err := rs.RepositoryExists(s.call(), &gitalypb.RepositoryExistsRequest{
		Repository: &gitalypb.Repository{StorageName: "no-such-storage", RelativePath: "project.git"},
	})
	s.rep.expectCode("unknown_storage", err, codes.InvalidArgument)

	_, err = rs.RepositoryExists(s.call(), &gitalypb.RepositoryExistsRequest{})
	s.rep.expectCode("repository_not_set", err, codes.InvalidArgument)

	_, err = rs.RepositorySize(s.call(), &gitalypb.RepositorySizeRequest{Repository: missing})
	s.rep.expectCode("size_of_missing_repository", err, codes.NotFound)

	_, err = rs.RemoveRepository(s.call(), &gitalypb.RemoveRepositoryRequest{Repository: missing})
	s.rep.expectCode("remove_missing_repository", err, codes.NotFound)

	_, err = rs.RepositoryExists(s.call(), &gitalypb.RepositoryExistsRequest{Repository: escaping("../escape.git")})
	s.rep.expectCode("exists_path_escapes_storage", err, codes.InvalidArgument)

	_, err = rs.CreateRepository(s.call(), &gitalypb.CreateRepositoryRequest{
		Repository: escaping("group/../../escape-" + randomHex(4) + ".git"),
	})
	s.rep.expectCode("create_path_escapes_storage", err, codes.InvalidArgument)

	checkWriteRefNeedsFullRef(s, rs)

	// Server-side backups without a [backup] sink: Gitaly's FailedPrecondition.
	_, err = rs.BackupRepository(s.call(), &gitalypb.BackupRepositoryRequest{
		Repository: missing, BackupId: "b1",
	})
	s.rep.expectCode("backup_repository_not_configured", err, codes.FailedPrecondition)

	// A method no Gitaly has: grpc-go reports these as Unimplemented too.
	var out gitalypb.RepositoryExistsResponse
	err = s.conn.Invoke(s.call(), "/gitaly.RepositoryService/NoSuchMethod",
		&gitalypb.RepositoryExistsRequest{Repository: missing}, &out)
	s.rep.expectCode("unknown_method", err, codes.Unimplemented)
}

// checkWriteRefNeedsFullRef needs a real repository: Gitaly validates the
// repository before it looks at the ref name.
func checkWriteRefNeedsFullRef(s *session, rs gitalypb.RepositoryServiceClient) {
	repo := s.hashedRepository()
	_, err := rs.CreateRepository(s.call(), &gitalypb.CreateRepositoryRequest{Repository: repo})
	if !s.rep.expectOK("scratch_create", err, nil, nil) {
		return
	}
	_, err = rs.WriteRef(s.call(), &gitalypb.WriteRefRequest{
		Repository: repo, Ref: []byte("main"), Revision: []byte("refs/heads/other"),
	})
	s.rep.expectCode("write_ref_short_ref", err, codes.InvalidArgument)

	_, err = rs.RemoveRepository(s.call(), &gitalypb.RemoveRepositoryRequest{Repository: repo})
	s.rep.expectOK("scratch_remove", err, nil, nil)
}
