package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gitlab.com/gitlab-org/gitaly/v16/proto/go/gitalypb"
)

// hashedRepository returns a repository with a fresh path in GitLab's hashed
// layout (@hashed/ab/cd/abcd….git), so runs sharing a server never collide
// and the server has to create nested directories.
func (s *session) hashedRepository() *gitalypb.Repository {
	sum := sha256.Sum256([]byte(randomHex(16)))
	digest := hex.EncodeToString(sum[:])
	return &gitalypb.Repository{
		StorageName:  s.opts.storage,
		RelativePath: fmt.Sprintf("@hashed/%s/%s/%s.git", digest[:2], digest[2:4], digest),
	}
}

// randomHex returns n random bytes as hex, for names no other run uses.
func randomHex(n int) string {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		panic(err) // the system's randomness source failing is not a test result
	}
	return hex.EncodeToString(buf)
}

// readHead reads the repository's HEAD file straight from the storage
// directory; ok is false when no storage path was given.
func (s *session) readHead(repo *gitalypb.Repository) (head string, ok bool, err error) {
	if s.opts.storagePath == "" {
		return "", false, nil
	}
	data, err := os.ReadFile(filepath.Join(s.opts.storagePath, repo.GetRelativePath(), "HEAD"))
	return strings.TrimSpace(string(data)), true, err
}
