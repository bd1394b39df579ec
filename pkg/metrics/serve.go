package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// AddrFile is the file, in a daemon's state dir, that holds the address
// its /metrics endpoint really listens on (the configured one may name
// port 0).
const AddrFile = "metrics.addr"

// NewRegistry returns a registry holding the Go runtime and process
// collectors and gsched_build_info, and a registerer for the daemon's own
// metrics that adds labels (the node daemon's node="NAME") to each.
func NewRegistry(daemon, version string, labels prometheus.Labels) (*prometheus.Registry, prometheus.Registerer) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	own := prometheus.WrapRegistererWith(labels, reg)
	info := prometheus.NewGauge(prometheus.GaugeOpts{Name: "gsched_build_info",
		Help:        "Always 1; the labels name the daemon (gctld, gnoded) and its version.",
		ConstLabels: prometheus.Labels{"daemon": daemon, "version": version}})
	info.Set(1)
	own.MustRegister(info)
	return reg, own
}

// Register registers every collector, stopping at the first error.
func Register(r prometheus.Registerer, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			return fmt.Errorf("register metrics: %w", err)
		}
	}
	return nil
}

// Server serves /metrics over plain HTTP. It is unauthenticated, as is
// usual for Prometheus: bind it to loopback or a management network
// (docs/SECURITY.md).
type Server struct {
	l   net.Listener
	hs  *http.Server
	log *zap.Logger
}

// Listen binds addr ("host:port"; port 0 picks one) and, when stateDir is
// set, writes the bound address to stateDir/AddrFile.
func Listen(addr, stateDir string, g prometheus.Gatherer, log *zap.Logger) (*Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listen %s: %w", addr, err)
	}
	if stateDir != "" {
		f := filepath.Join(stateDir, AddrFile)
		if err := os.MkdirAll(stateDir, 0o700); err == nil {
			err = os.WriteFile(f, []byte(l.Addr().String()+"\n"), 0o644)
		}
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("write %s: %w", f, err)
		}
	}
	return &Server{l: l, hs: &http.Server{Handler: Handler(g, log), ReadHeaderTimeout: 10 * time.Second}, log: log}, nil
}

// Handler answers GET /metrics with g's metrics.
func Handler(g prometheus.Gatherer, log *zap.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:            zap.NewStdLog(log),
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             20 * time.Second,
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "gsched: metrics are at /metrics")
	})
	return mux
}

// Addr is the address really bound.
func (s *Server) Addr() string { return s.l.Addr().String() }

// Close releases the listener of a server that will not Serve.
func (s *Server) Close() error { return s.l.Close() }

// Serve runs until ctx is done, then shuts down.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.hs.Serve(s.l) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.hs.Shutdown(sctx)
		<-errc
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("metrics server: %w", err)
	}
}
