# GateLab set-up on a fresh Debian machine that has Swift: two commands do everything.
#   make run    installs the Debian packages below if any is missing, builds in release mode
#               and runs the quickstart experiment (Experiments/quickstart.toml): how fast
#               gradients vanish in the tanh RNN, the LSTM and the GRU, with its report and
#               figures written to Notes/quickstart/report.md
#   make test   installs the missing packages, then runs every test with `swift test`, then
#               the consumer check (make consumer) and the Slurm test (make slurm-test)
#   make consumer  builds and runs a package outside the tree that depends on GateLab by URL
#               (this clone, at its current commit) and uses it through `import GateLab`
#   make docs   the DocC documentation of every library module, combined into one archive
#               with the getting-started article (.build/plugins/Swift-DocC/outputs/
#               GateLab.doccarchive); fails on any DocC warning
#   make slurm-test  starts a private one-node Slurm on loopback (Tests/Slurm/cluster.sh
#               installs slurmctld, slurmd, slurm-client and munge when missing, its daemons
#               on their own socket and ports, stopped by pid afterwards), runs a small grid
#               as a 4-task job array plus its merge job and checks the results are identical
#               to a local run, then kills and resubmits one task; says "skipped" (never a
#               pass) where the packages cannot be installed
#   make fuzz   the long fuzz run (release build): FUZZ_INPUTS mutated inputs of each kind
#               (reference cases, weights files, experiment files, checkpoints; default
#               250000 each, 10^6 in all) and up to 5000 command lines; counts, slowest input
#               and peak memory are printed (Notes/reliability.md). FUZZ_SECONDS=N stops each
#               target N seconds after it starts (a shared machine) and prints what ran
# and, for maintainers,
#   make notes  regenerates Notes/cells.md (a test fails when it is stale)

PACKAGES := libgsl-dev libopenblas-dev pkg-config gnuplot-nox
SWIFT ?= swift

.PHONY: run test consumer docs slurm-test notes deps fuzz

run: deps
	$(SWIFT) build -c release
	"$$($(SWIFT) build -c release --show-bin-path)/gatelab" run Experiments/quickstart.toml

test: deps
	$(SWIFT) test
	$(MAKE) --no-print-directory docs
	$(MAKE) --no-print-directory consumer
	$(MAKE) --no-print-directory slurm-test

consumer: deps
	Tests/Consumer/check.sh

# Every library module, combined into one archive under the umbrella's catalog (its
# landing page and the getting-started article). --warnings-as-errors: an unresolved link or
# a doc comment that documents some parameters but not all fails the build.
DOC_MODULES := GateLabSupport GateLabGSL GateLabAutodiff GateLabGradCheck GateLabCells \
	GateLabCellLanguage GateLabInterchange GateLabVerification GateLabTasks GateLabExperiments \
	GateLabProbe GateLabProbeExperiments GateLabTraining GateLabReproductions GateLab
docs:
	$(SWIFT) package generate-documentation $(addprefix --target ,$(DOC_MODULES)) \
	  --enable-experimental-combined-documentation --warnings-as-errors

# The gatelab that `swift test` built (debug); the test bounds itself (5 minutes).
slurm-test:
	$(SWIFT) build --product gatelab
	Tests/Slurm/slurm-test.sh "$$($(SWIFT) build --show-bin-path)/gatelab"

FUZZ_INPUTS ?= 250000
FUZZ_SECONDS ?=
fuzz: deps
	GATELAB_FUZZ_INPUTS=$(FUZZ_INPUTS) GATELAB_FUZZ_SECONDS=$(FUZZ_SECONDS) $(SWIFT) test -c release -Xswiftc -enable-testing --filter 'InputFuzzTests|CommandLineFuzzTests|LanguageFuzzTests' 2>&1 | grep -E '^fuzz |✘|passed after|failed after'

notes:
	$(SWIFT) build --product gatelab
	"$$($(SWIFT) build --show-bin-path)/gatelab" show --all --markdown > Notes/cells.md

# apt-get runs only when a package is missing (checked with dpkg-query); sudo only when not root.
deps:
	@missing=""; \
	for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi; \
	  echo "installing missing Debian packages:$$missing"; \
	  $$sudo apt-get update && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi
