# gsched — build, run a local cluster, test.
# `make run` builds everything and starts a one-machine cluster under ./var;
# `make test` runs the whole suite (as root for the container tests).

GO        ?= go
export CGO_ENABLED := 1
# go-nvml's headers mark many functions deprecated; the warnings are noise.
export CGO_CFLAGS := -O2 -g -Wno-deprecated-declarations
export GOFLAGS := -buildvcs=false
BIN       := bin
CMDS      := gsub gqueue gcancel ginfo gacct gshare gsim ghostnames grun gattach gcontrol
RACE_PKGS := ./ctld/... ./noded/... ./pkg/auth/... ./pkg/rpc/... ./pkg/state/... ./pkg/fsm/... ./pkg/runtime/... ./pkg/testcluster/... ./pkg/image/... ./pkg/hooks/... ./pkg/stepio/... ./pkg/metrics/... ./client/cli/

PREFIX    ?= /usr/local
SLURM_WRAPPERS := sbatch srun squeue scancel sinfo sacct sshare sprio scontrol

.PHONY: help build run stop dashboard-shot test test-deps e2e unit race fuzz fuzz-short faults bench bench-vs-slurm lint man clean install install-slurm-compat FORCE

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: $(BIN)/runc ## build gctld, gnoded, the commands and runc into bin/
	$(GO) build -o $(BIN)/gctld ./ctld
	$(GO) build -o $(BIN)/gnoded ./noded
	CGO_ENABLED=0 $(GO) build -ldflags="-s -w" -o $(BIN)/gsched-init ./noded/cmd/gsched-init
	@for c in $(CMDS); do $(GO) build -o $(BIN)/$$c ./client/cmd/$$c || exit 1; done

# runc from the module version pinned in go.mod (a `tool` dependency), with
# seccomp support when libseccomp's headers are there (Debian: libseccomp-dev
# and pkg-config; `make test-deps` installs them). Without them runc cannot
# apply a seccomp profile and gnoded warns that seccomp is off.
RUNC_TAGS := $(shell pkg-config --exists libseccomp 2>/dev/null && echo seccomp)
$(BIN)/runc: go.mod go.sum $(BIN)/.runc-tags
	$(GO) build -tags "$(RUNC_TAGS)" -o $(BIN)/runc github.com/opencontainers/runc

# Rewritten only when the tags change, so that runc is rebuilt with seccomp
# once libseccomp-dev is installed (or without it once removed).
$(BIN)/.runc-tags: FORCE
	@mkdir -p $(BIN)
	@echo "$(RUNC_TAGS)" | cmp -s - $@ || echo "$(RUNC_TAGS)" > $@

FORCE:

run: build ## start a one-machine cluster under ./var and run examples/hello.sh
	@conf/devcluster.sh start

stop: ## stop what `make run` started
	@conf/devcluster.sh stop

dashboard-shot: build ## screenshot of the web dashboard of a throw-away cluster with jobs: var/dashboard.png (OUT=...)
	@conf/dashboard-shot.sh

# Debian packages the gang tests use as real distributed clients: CPU
# PyTorch (torch.distributed/gloo) and OpenMPI with mpi4py; and libseccomp's
# headers, so that bin/runc applies the seccomp profile the isolation tests
# check; chromium, in which the dashboard tests load its pages (and make
# dashboard-shot takes its picture); busybox-static, from which the image
# tests build their OCI image. Root only; without them those tests skip.
TEST_DEBS := python3-torch python3-distributed python3-mpi4py openmpi-bin libseccomp-dev pkg-config chromium busybox-static
test-deps: ## install the Debian packages the e2e tests use (root, apt)
	@missing=""; for p in $(TEST_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "test-deps: need root to install$$missing"; exit 0; fi; \
	  echo "apt-get install$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

test: build ## the whole test suite: unit, end-to-end (real runc), race, fuzz seeds, fuzz-short
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...
	$(GO) test -count=1 -race -timeout 20m $(RACE_PKGS)
	@GO=$(GO) conf/fuzz.sh $(FUZZTIME_SHORT)

e2e: build ## end-to-end tests only (controller + node daemons + runc)
	$(GO) test -count=1 -v -timeout 20m ./pkg/testcluster/...

# KILLS controller kill -9s, REQUEUES node failures, LOAD_SECONDS of the
# 50-client load test; -p 1: one package at a time, so that the load test
# and the cluster tests do not share the CPU they measure.
faults: build ## long fault tests: 20 controller and 20 HA-leader kill -9s, 5 node failures, partitions, 60 s of load; prints a table (docs/RELIABILITY.md)
	@GSCHED_FAULT_KILLS=$${KILLS:-20} GSCHED_HA_KILLS=$${HA_KILLS:-20} GSCHED_FAULT_REQUEUES=$${REQUEUES:-5} GSCHED_LOAD_SECONDS=$${LOAD_SECONDS:-60} \
	  $(GO) test -p 1 -count=1 -v -timeout 30m \
	  -run 'Kill9|HALeaderKill|Partition|NodeFailure|SilentNode|Drain|Forged|RemoteCommands|CorruptSnapshot|CheckBoltFile|UnderLoad|SignedServerRejects|SignedClientRejects|PeerServerNeeds|TokenRejections' \
	  ./pkg/testcluster/ ./ctld/server/ ./pkg/rpc/ ./pkg/auth/ | conf/faults-table.sh

# Every fuzz target (found by conf/fuzz.sh from its declaration) runs for
# FUZZTIME_SHORT in `make test`: about 2 minutes in all on 2 cores.
FUZZTIME_SHORT ?= 2s

fuzz: ## run every fuzz target for FUZZTIME (default 20s) each; FUZZ=regexp picks some
	@GO=$(GO) conf/fuzz.sh $${FUZZTIME:-20s} "$(FUZZ)"

fuzz-short: ## run every fuzz target for FUZZTIME_SHORT (2s) each, as make test does
	@GO=$(GO) conf/fuzz.sh $(FUZZTIME_SHORT) "$(FUZZ)"

bench: build ## Go benchmarks, then the load benchmarks on a local 4-node cluster (docs/BENCHMARKS.md)
	$(GO) build -o $(BIN)/gbench ./client/cmd/gbench
	$(GO) test -run='^$$' -bench=. -benchmem ./pkg/... ./ctld/...
	conf/bench/run.sh gsched

bench-vs-slurm: build ## the same measurements on real Slurm (../shared/peers/slurm) and gsched, side by side with ratios
	$(GO) build -o $(BIN)/gbench ./client/cmd/gbench
	conf/bench/run.sh both

lint: ## gofmt + go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

# The OPTIONS sections of the man pages (between their BEGIN/END GENERATED
# OPTIONS lines) and conf/completion/ are generated from the commands'
# urfave/cli flags; tests fail when they are out of date. gctld, gnoded and
# gsim are package main, so a test in each rewrites its own page.
man: ## regenerate the man pages' OPTIONS sections and the bash/zsh completion from the flags
	$(GO) run ./client/internal/gendoc
	$(GO) test -count=1 -run '^TestManPage$$' ./ctld ./noded ./client/cmd/gsim -args -update

# make install [PREFIX=/usr/local] [SYSCONFDIR=/etc] [DESTDIR=]: daemons in
# sbin, commands in bin, runc and the static init gsched-init in
# libexec/gsched (beside, not on, $PATH: runc must not shadow the host's;
# gnoded finds both there), man pages,
# systemd units (ExecStart pointing at PREFIX/sbin), bash and zsh
# completion, the sample health check and the examples under share; the
# example configuration and the logrotate file only where none exists.
SYSCONFDIR ?= /etc
install: build ## install binaries, man pages, units, completion and an example config under DESTDIR/PREFIX (docs/DEPLOY.md)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/libexec/gsched \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8 \
	  $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/gsched/examples \
	  $(DESTDIR)$(SYSCONFDIR)/gsched $(DESTDIR)$(SYSCONFDIR)/logrotate.d
	install -m 0755 $(BIN)/gctld $(BIN)/gnoded $(DESTDIR)$(PREFIX)/sbin/
	install -m 0755 $(BIN)/runc $(DESTDIR)$(PREFIX)/libexec/gsched/runc
	install -m 0755 $(BIN)/gsched-init $(DESTDIR)$(PREFIX)/libexec/gsched/gsched-init
	@for c in $(CMDS); do install -m 0755 $(BIN)/$$c $(DESTDIR)$(PREFIX)/bin/$$c || exit 1; done
	install -m 0644 man/man1/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 man/man5/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 man/man8/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	@for u in gctld gnoded; do \
	  sed 's|/usr/local/sbin/|$(PREFIX)/sbin/|; s|/etc/gsched/|$(SYSCONFDIR)/gsched/|' conf/$$u.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/$$u.service && \
	  chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/$$u.service || exit 1; done
	install -m 0644 conf/completion/gsched.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/gsched
	@for c in $(CMDS); do ln -sf gsched $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$c || exit 1; done
	install -m 0644 conf/completion/_gsched $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_gsched
	install -m 0755 conf/healthcheck.sh $(DESTDIR)$(PREFIX)/share/gsched/healthcheck.sh
	cp -R conf/examples/. $(DESTDIR)$(PREFIX)/share/gsched/examples/
	install -m 0644 conf/gsched.conf.example $(DESTDIR)$(PREFIX)/share/gsched/examples/gsched.conf.example
	@test -e $(DESTDIR)$(SYSCONFDIR)/gsched/gsched.conf || install -m 0644 conf/gsched.conf.example $(DESTDIR)$(SYSCONFDIR)/gsched/gsched.conf
	@test -e $(DESTDIR)$(SYSCONFDIR)/logrotate.d/gsched || install -m 0644 conf/logrotate.d/gsched $(DESTDIR)$(SYSCONFDIR)/logrotate.d/gsched
	@echo "installed under $(DESTDIR)$(PREFIX); next: docs/DEPLOY.md"

install-slurm-compat: ## install sbatch, squeue, scancel, ... wrappers into $(PREFIX)/bin
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0644 conf/slurm-compat/_wrap $(DESTDIR)$(PREFIX)/bin/_gsched-wrap
	@for w in $(SLURM_WRAPPERS); do install -m 0755 conf/slurm-compat/$$w $(DESTDIR)$(PREFIX)/bin/$$w || exit 1; done

clean: stop ## remove binaries and the local cluster's state
	rm -rf $(BIN) var
