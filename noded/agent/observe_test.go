package agent_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gsched/gsched/noded/agent"
	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/runtime/fake"
)

// leveledController is the fake controller whose sync answers also carry
// a log level, as gcontrol setdebug makes the real one do.
type leveledController struct {
	*fakeController
	level string
}

func (c *leveledController) Call(ctx context.Context, path string, req, resp any) error {
	err := c.fakeController.Call(ctx, path, req, resp)
	if r, ok := resp.(*api.SyncResponse); ok && err == nil {
		c.mu.Lock()
		r.LogLevel = c.level
		c.mu.Unlock()
	}
	return err
}

// The agent takes the log level from sync answers, knows which GPUs its
// jobs hold, and reports each launch.
func TestAgentObserves(t *testing.T) {
	c := &leveledController{fakeController: newController(runningJob(5, withGPUs(1, 3))), level: "debug"}
	rt := fake.New()
	level := zap.NewAtomicLevelAt(zapcore.InfoLevel)
	var mu sync.Mutex
	var launches []string
	a := agent.New(agent.Options{
		Node: testNode(), Controller: c, Runtime: rt, Heartbeat: time.Hour, KillGrace: killGrace,
		Level: &level,
		Launched: func(kind string, d time.Duration, err error) {
			mu.Lock()
			launches = append(launches, fmt.Sprintf("%s %v", kind, err))
			mu.Unlock()
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		<-done
		tasks, _ := rt.List(context.Background())
		for _, st := range tasks {
			_ = rt.Destroy(context.Background(), st.ID)
		}
	}()
	waitStarted(t, rt, agent.TaskID(5, 0))
	waitUntil(t, "the log level from the controller", func() bool { return level.Level() == zapcore.DebugLevel })
	if got := fmt.Sprint(a.AllocatedGPUs()); got != "[1 3]" {
		t.Errorf("allocated GPUs %s, want [1 3]", got)
	}
	waitUntil(t, "the launch reported", func() bool { mu.Lock(); defer mu.Unlock(); return len(launches) == 1 })
	if launches[0] != "job <nil>" {
		t.Errorf("launches %v", launches)
	}
	if n, err := a.RunningTasks(context.Background()); err != nil || n != 1 {
		t.Errorf("RunningTasks = %d, %v", n, err)
	}
	c.mu.Lock()
	c.level = "sideways" // an unknown level is ignored
	c.mu.Unlock()
	c.setJobs()
	waitUntil(t, "the job's GPUs released", func() bool { return len(a.AllocatedGPUs()) == 0 })
	if level.Level() != zapcore.DebugLevel {
		t.Errorf("level %s after an unknown one", level.Level())
	}
}
