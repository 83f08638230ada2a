# voxgen: every set-up step lives here, so a fresh machine needs only `make demo` or `make test`.
#
#   make demo             install what is missing, build, run the main job on the embedded default
#   make test             install what is missing, build, lint (rustfmt, clippy), run every test
#   make build            build the release binary (target/release/voxgen)
#   make build TORCH=cuda the same, linked against CUDA (needs an NVIDIA GPU and driver)
#   make bench            voxelization benchmark against trimesh, Open3D and PyVista
#   make lint             rustfmt and clippy

SHELL := /bin/bash
.DEFAULT_GOAL := help

TORCH ?= cpu
TORCH_VERSION := 2.13.0
TORCH_CPU_WHEELS := torch==$(TORCH_VERSION) nvidia-cuda-runtime==13.0.96 nvidia-cuda-cupti==13.0.85
TORCH_VENV := .torch/venv
LIBTORCH := .torch/libtorch
TOOLS := .tools
DEMO_DIR ?= demo
PYTHON ?= python3

# libtorch's OpenMP threads spin while they wait, which starves everything else on a small shared
# machine (measured: 4x slower steps when tests run side by side); let them sleep instead.
export OMP_WAIT_POLICY ?= PASSIVE

ifeq ($(TORCH),cuda)
CUDA_ENV := VOXGEN_CUDA=1
TORCH_STAMP := .torch/cuda.stamp
else
CUDA_ENV :=
TORCH_STAMP := .torch/cpu.stamp
endif

.PHONY: help deps torch tools build test demo bench lint clean

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'
	@echo "  (add TORCH=cuda to build, demo or test to link libtorch with CUDA)"

deps: ## Install missing Debian packages (a C++ compiler, Python venv, Node.js).
	@missing=""; \
	command -v g++ >/dev/null || missing="$$missing g++"; \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

torch: deps $(TORCH_STAMP) ## Install the pinned libtorch from PyPI into .torch/.

.torch/cpu.stamp:
	@echo "installing libtorch $(TORCH_VERSION) (CPU, three wheels: about 540 MB to download, 1.2 GB installed) into .torch/"
	$(PYTHON) -m venv $(TORCH_VENV)
	$(TORCH_VENV)/bin/pip install -q --no-cache-dir --no-deps $(TORCH_CPU_WHEELS)
	ln -sfn "$$(cd .torch && ls -d venv/lib/python3*/site-packages/torch)" $(LIBTORCH)
	test -f $(LIBTORCH)/lib/libtorch_cpu.so
	touch $@

.torch/cuda.stamp: .torch/cpu.stamp
	@echo "installing libtorch $(TORCH_VERSION) with its CUDA libraries (several GB)"
	$(TORCH_VENV)/bin/pip install -q --no-cache-dir torch==$(TORCH_VERSION)
	touch $@

tools: deps ## Install the independent readers the tests check outputs with (npm, Debian).
	@missing=""; \
	command -v goxel >/dev/null || missing="$$missing goxel"; \
	command -v xvfb-run >/dev/null || missing="$$missing xvfb"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@if [ ! -f $(TOOLS)/node_modules/.stamp ]; then \
		echo "installing gltf-validator and vox-reader into $(TOOLS)/"; \
		mkdir -p $(TOOLS) && npm install --silent --no-audit --no-fund --prefix $(TOOLS) \
			gltf-validator@2.0.0-dev.3.10 vox-reader@4.0.1 && touch $(TOOLS)/node_modules/.stamp; \
	fi

build: torch ## Build the release binary.
	$(CUDA_ENV) cargo build --release

test: torch tools ## rustfmt and clippy, then every test (Rust; the add-on in Blender 3.4 and bpy 5.0.1).
	cargo fmt --check
	$(CUDA_ENV) cargo clippy --all-targets -- -D warnings
	$(CUDA_ENV) cargo test --no-fail-fast
	rm -rf target/plugin-inputs && mkdir -p target/plugin-inputs
	./target/debug/voxgen -q voxelize assets/inbox/cat.obj --res 24 \
		-o target/plugin-inputs/cat.vox -o target/plugin-inputs/cat.glb
	./target/debug/voxgen -q voxelize assets/inbox/cow.glb --res 32 \
		-o target/plugin-inputs/cow.vox -o target/plugin-inputs/cow.glb
	VOXGEN_GLB_DIR=target/plugin-inputs bash plugin/tests/run.sh

demo: build ## Run `voxgen watch --once` on the embedded default meshes.
	rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	cp -r assets/inbox $(DEMO_DIR)/inbox
	cp assets/voxgen.toml $(DEMO_DIR)/voxgen.toml
	./target/release/voxgen watch --once $(DEMO_DIR)
	@echo; echo "demo done: open $(DEMO_DIR)/out/voxels and $(DEMO_DIR)/out/generated"

bench: build ## Benchmark voxelization against trimesh, Open3D and PyVista.
	@# Open3D's wheel links libusb, which a minimal Debian lacks.
	@if ! ldconfig -p | grep -q 'libusb-1.0.so.0'; then \
		echo "installing: libusb-1.0-0"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libusb-1.0-0; \
	fi
	$(CUDA_ENV) cargo build --release --example voxelize_timing
	$(PYTHON) bench/bench.py

lint: torch ## rustfmt and clippy.
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings

clean: ## Remove build outputs (keeps .torch/).
	cargo clean
	rm -rf $(DEMO_DIR)
