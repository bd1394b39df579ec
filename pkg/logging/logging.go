// Package logging builds the daemons' zap loggers: console lines on stderr
// at a configured level, with typed fields. Components get named children
// (logger.Named("sched")); nothing uses zap's global logger.
package logging

import (
	"fmt"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// New returns a logger at level ("debug", "info", "warn", "error").
func New(level string) (*zap.Logger, zap.AtomicLevel, error) {
	lvl := zap.NewAtomicLevel()
	if level == "" {
		level = "info"
	}
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, lvl, fmt.Errorf("log level %q: %w", level, err)
	}
	cfg := zap.Config{
		Level:            lvl,
		Encoding:         "console",
		OutputPaths:      []string{"stderr"},
		ErrorOutputPaths: []string{"stderr"},
		EncoderConfig: zapcore.EncoderConfig{
			TimeKey: "ts", LevelKey: "level", NameKey: "logger", MessageKey: "msg",
			StacktraceKey: "", LineEnding: zapcore.DefaultLineEnding,
			EncodeLevel: zapcore.CapitalLevelEncoder, EncodeTime: zapcore.ISO8601TimeEncoder,
			EncodeDuration: zapcore.StringDurationEncoder, EncodeName: zapcore.FullNameEncoder,
		},
	}
	l, err := cfg.Build()
	if err != nil {
		return nil, lvl, fmt.Errorf("build logger: %w", err)
	}
	return l, lvl, nil
}
