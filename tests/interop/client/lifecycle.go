package main

import (
	"fmt"

	"gitlab.com/gitlab-org/gitaly/v16/proto/go/gitalypb"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// runLifecycle checks health and server info, then walks a repository of
// each object format from creation to removal.
func runLifecycle(s *session) {
	checkHealth(s)
	checkServerInfo(s)
	walkRepository(s, "sha1", gitalypb.ObjectFormat_OBJECT_FORMAT_SHA1)
	walkRepository(s, "sha256", gitalypb.ObjectFormat_OBJECT_FORMAT_SHA256)
}

func checkHealth(s *session) {
	resp, err := healthpb.NewHealthClient(s.conn).Check(s.call(), &healthpb.HealthCheckRequest{})
	s.rep.expectOK("health", err, map[string]any{"status": resp.GetStatus().String()}, func() string {
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return "expected SERVING"
		}
		return ""
	})
}

func checkServerInfo(s *session) {
	resp, err := gitalypb.NewServerServiceClient(s.conn).ServerInfo(s.call(), &gitalypb.ServerInfoRequest{})
	storage := findStorageStatus(resp.GetStorageStatuses(), s.opts.storage)
	detail := map[string]any{
		"server_version": resp.GetServerVersion(),
		"git_version":    resp.GetGitVersion(),
		"storages":       len(resp.GetStorageStatuses()),
	}
	s.rep.expectOK("server_info", err, detail, func() string {
		switch {
		case resp.GetGitVersion() == "":
			return "empty git_version"
		case storage == nil:
			return fmt.Sprintf("no status for storage %q", s.opts.storage)
		case !storage.GetReadable() || !storage.GetWriteable():
			return "storage not readable and writeable"
		}
		return ""
	})
}

func findStorageStatus(statuses []*gitalypb.ServerInfoResponse_StorageStatus, name string) *gitalypb.ServerInfoResponse_StorageStatus {
	for _, status := range statuses {
		if status.GetStorageName() == name {
			return status
		}
	}
	return nil
}

// walkRepository creates a repository in the given format, inspects it with
// every read RPC, and removes it again. Step names are "<label>.<step>".
func walkRepository(s *session, label string, format gitalypb.ObjectFormat) {
	repo := s.hashedRepository()
	rs := gitalypb.NewRepositoryServiceClient(s.conn)
	step := func(name string) string { return label + "." + name }

	_, err := rs.CreateRepository(s.call(), &gitalypb.CreateRepositoryRequest{
		Repository: repo, DefaultBranch: []byte("main"), ObjectFormat: format,
	})
	if !s.rep.expectOK(step("create"), err, map[string]any{"relative_path": repo.GetRelativePath()}, nil) {
		return // nothing below means anything without the repository
	}

	exists, err := rs.RepositoryExists(s.call(), &gitalypb.RepositoryExistsRequest{Repository: repo})
	s.rep.expectOK(step("exists"), err, map[string]any{"exists": exists.GetExists()}, want(exists.GetExists(), true))

	objectFormat, err := rs.ObjectFormat(s.call(), &gitalypb.ObjectFormatRequest{Repository: repo})
	s.rep.expectOK(step("object_format"), err, map[string]any{"format": objectFormat.GetFormat().String()},
		want(objectFormat.GetFormat(), format))

	branches, err := rs.HasLocalBranches(s.call(), &gitalypb.HasLocalBranchesRequest{Repository: repo})
	s.rep.expectOK(step("has_local_branches"), err, map[string]any{"value": branches.GetValue()},
		want(branches.GetValue(), false))

	size, err := rs.RepositorySize(s.call(), &gitalypb.RepositorySizeRequest{Repository: repo})
	s.rep.expectOK(step("size"), err, map[string]any{"size_kib": size.GetSize()}, atLeastZero(size.GetSize()))

	withObjects := &gitalypb.Repository{
		StorageName: repo.GetStorageName(), RelativePath: repo.GetRelativePath(), GitObjectDirectory: "objects",
	}
	objectsSize, err := rs.GetObjectDirectorySize(s.call(), &gitalypb.GetObjectDirectorySizeRequest{Repository: withObjects})
	s.rep.expectOK(step("object_directory_size"), err, map[string]any{"size_kib": objectsSize.GetSize()},
		atLeastZero(objectsSize.GetSize()))

	checkRepositoryInfo(s, rs, repo, step("info"))
	checkHead(s, repo, step("head_on_disk"), "refs/heads/main")

	_, err = rs.WriteRef(s.call(), &gitalypb.WriteRefRequest{
		Repository: repo, Ref: []byte("HEAD"), Revision: []byte("refs/heads/trunk"),
	})
	s.rep.expectOK(step("write_ref_head"), err, nil, nil)
	checkHead(s, repo, step("head_on_disk_after_write_ref"), "refs/heads/trunk")

	_, err = rs.CreateRepository(s.call(), &gitalypb.CreateRepositoryRequest{Repository: repo, ObjectFormat: format})
	s.rep.expectCode(step("create_again"), err, codes.AlreadyExists)

	_, err = rs.RemoveRepository(s.call(), &gitalypb.RemoveRepositoryRequest{Repository: repo})
	s.rep.expectOK(step("remove"), err, nil, nil)

	exists, err = rs.RepositoryExists(s.call(), &gitalypb.RepositoryExistsRequest{Repository: repo})
	s.rep.expectOK(step("exists_after_remove"), err, map[string]any{"exists": exists.GetExists()},
		want(exists.GetExists(), false))
}

func checkRepositoryInfo(s *session, rs gitalypb.RepositoryServiceClient, repo *gitalypb.Repository, name string) {
	info, err := rs.RepositoryInfo(s.call(), &gitalypb.RepositoryInfoRequest{Repository: repo})
	detail := map[string]any{
		"size":                    info.GetSize(),
		"references_loose_count":  info.GetReferences().GetLooseCount(),
		"references_packed_size":  info.GetReferences().GetPackedSize(),
		"objects_size":            info.GetObjects().GetSize(),
		"references_field_is_set": info.GetReferences() != nil,
		"objects_field_is_set":    info.GetObjects() != nil,
	}
	s.rep.expectOK(name, err, detail, func() string {
		switch {
		case info.GetSize() == 0:
			return "size 0 for a repository that has files"
		case info.GetReferences() == nil || info.GetObjects() == nil:
			return "references and objects must both be set (Gitaly always sets them)"
		case info.GetReferences().GetLooseCount() != 0:
			return "an empty repository has no loose references"
		}
		return ""
	})
}

// checkHead records the on-disk HEAD, when the storage path is known.
func checkHead(s *session, repo *gitalypb.Repository, name, wantRef string) {
	head, ok, err := s.readHead(repo)
	if !ok {
		return
	}
	problem := ""
	if err != nil {
		problem = err.Error()
	} else if head != "ref: "+wantRef {
		problem = fmt.Sprintf("expected HEAD to be %q", "ref: "+wantRef)
	}
	s.rep.record(name, nil, map[string]any{"head": head}, problem)
}

// want checks one value of a successful response.
func want[T comparable](got, expected T) func() string {
	return func() string {
		if got != expected {
			return fmt.Sprintf("expected %v, got %v", expected, got)
		}
		return ""
	}
}

func atLeastZero(n int64) func() string {
	return func() string {
		if n < 0 {
			return fmt.Sprintf("negative size %d", n)
		}
		return ""
	}
}
