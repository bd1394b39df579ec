package server

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/config"
)

// Only operators change the log level; the controller's level changes at
// once, node daemons get theirs with the next sync answer.
func TestSetLogLevel(t *testing.T) {
	s := testServer(t)
	s.cfg = config.Default()
	s.cfg.Operators = []string{"ops"}
	s.log = zap.NewNop()
	s.obs.level = zap.NewAtomicLevelAt(zapcore.InfoLevel)
	as := func(uid uint32, user string) context.Context {
		return auth.WithPeer(context.Background(), auth.Peer{UID: uid, User: user})
	}
	sync := s.withNodeLevel(func(context.Context, []byte) (any, error) { return &api.SyncResponse{}, nil })
	nodeLevel := func() string {
		resp, err := sync(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return resp.(*api.SyncResponse).LogLevel
	}

	if _, err := s.setLogLevel(as(1000, "alice"), &api.LogLevelRequest{Level: "debug"}); !errors.Is(err, api.ErrPermission) {
		t.Fatalf("non-operator: %v, want permission denied", err)
	}
	if s.obs.level.Level() != zapcore.InfoLevel || nodeLevel() != "" {
		t.Fatalf("a refused request changed the level: %s %q", s.obs.level.Level(), nodeLevel())
	}
	for _, bad := range []api.LogLevelRequest{{Level: "loud"}, {Level: "debug", Target: "everyone"}} {
		if _, err := s.setLogLevel(as(0, "root"), &bad); !errors.Is(err, api.ErrInvalid) {
			t.Errorf("%+v: %v, want invalid", bad, err)
		}
	}
	resp, err := s.setLogLevel(as(1001, "ops"), &api.LogLevelRequest{Level: "DEBUG", Target: "controller"})
	if err != nil {
		t.Fatal(err)
	}
	if r := resp.(*api.LogLevelResponse); *r != (api.LogLevelResponse{Controller: "debug", Previous: "info"}) || nodeLevel() != "" {
		t.Errorf("controller only: %+v, nodes %q", *r, nodeLevel())
	}
	resp, err = s.setLogLevel(as(0, "root"), &api.LogLevelRequest{Level: "warn", Target: "nodes"})
	if err != nil {
		t.Fatal(err)
	}
	if r := resp.(*api.LogLevelResponse); *r != (api.LogLevelResponse{Controller: "debug", Previous: "debug", Nodes: "warn"}) || nodeLevel() != "warn" {
		t.Errorf("nodes only: %+v, nodes %q", *r, nodeLevel())
	}
	if _, err := s.setLogLevel(as(0, "root"), &api.LogLevelRequest{Level: "error"}); err != nil {
		t.Fatal(err)
	}
	if s.obs.level.Level() != zapcore.ErrorLevel || nodeLevel() != "error" {
		t.Errorf("all: %s %q", s.obs.level.Level(), nodeLevel())
	}
}
