#!/usr/bin/env bash
# make docker-smoke: build both images and train in the CPU one, without a Docker daemon.
#
# 1. installs buildah and debootstrap (apt-get) when they are missing;
# 2. makes a Debian bookworm + python3 + venv base image with debootstrap (cached);
# 3. builds docker/Dockerfile.cpu and docker/Dockerfile with BASE_IMAGE pointing at it
#    (buildah --storage-driver vfs --isolation chroot), installing from pre-downloaded wheels
#    when the build container cannot reach PyPI;
# 4. runs the CPU image's default command (the digits demo) and prints its test accuracy;
# 5. runs the SIGTERM/resume scenario inside the CPU image;
# 6. prints what it did, what it could not do and why, and how long it took.
#
# Environment: TENSORLAB_DOCKER_CACHE (default ~/.cache/tensorlab-docker), DEBIAN_MIRROR,
# DOCKER_SMOKE_GPU=0 to skip the GPU image (1.3 GB of CUDA wheels, ~15 GB of vfs storage while
# building), DOCKER_SMOKE_KEEP=1 to keep the built images (only the base image is kept otherwise).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${TENSORLAB_DOCKER_CACHE:-$HOME/.cache/tensorlab-docker}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
BASE=localhost/tensorlab-pybase:$SUITE
CPU_IMAGE=localhost/tensorlab:cpu
GPU_IMAGE=localhost/tensorlab:gpu
BUILD_GPU=${DOCKER_SMOKE_GPU:-1}
KEEP=${DOCKER_SMOKE_KEEP:-0}
T0=$(date +%s)
declare -a DONE=() NOT_DONE=()
FAILED=0

log() { printf '\n==> %s\n' "$*"; }
done_() { DONE+=("$1"); }
not_done() { NOT_DONE+=("$1"); }
fail() { not_done "$1"; FAILED=1; }
B() { buildah --storage-driver vfs "$@"; }
elapsed() { echo "$(( $(date +%s) - $1 ))s"; }

cleanup() {
    if [ "$KEEP" != 1 ] && command -v buildah >/dev/null; then
        B rmi "$CPU_IMAGE" "$GPU_IMAGE" >/dev/null 2>&1
        B rmi --prune >/dev/null 2>&1
        echo "removed the built images (DOCKER_SMOKE_KEEP=1 keeps them); the base image stays cached"
    fi
}

summary() {
    cleanup
    log "docker-smoke summary ($(elapsed "$T0") in all)"
    for d in "${DONE[@]}"; do echo "  done:        $d"; done
    for d in "${NOT_DONE[@]}"; do echo "  NOT DONE:    $d"; done
    if [ "$FAILED" = 0 ]; then echo "docker-smoke: PASSED"; else echo "docker-smoke: FAILED"; fi
}
trap summary EXIT

# ---------------------------------------------------------------- 1. tools
need=()
command -v buildah >/dev/null || need+=(buildah)
command -v debootstrap >/dev/null && [ -x "$(command -v debootstrap)" ] || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        fail "install ${need[*]}: needs root and apt-get (Debian/Ubuntu); install them and rerun"
        exit 1
    fi
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; }; then
        fail "apt-get install ${need[*]} failed (no network or no package source?)"
        exit 1
    fi
    done_ "installed ${need[*]} with apt-get"
fi
buildah --version

# ---------------------------------------------------------------- 2. base image
mkdir -p "$CACHE"
if B inspect --type image "$BASE" >/dev/null 2>&1; then
    done_ "base image $BASE (cached in buildah's vfs storage)"
else
    t=$(date +%s)
    tarball=$CACHE/rootfs-$SUITE.tar
    if [ ! -s "$tarball" ]; then
        if [ "$(id -u)" != 0 ]; then
            fail "debootstrap needs root (chroot, device nodes); run as root once to create $tarball"
            exit 1
        fi
        log "debootstrap $SUITE from $MIRROR"
        rootfs=$CACHE/rootfs.tmp
        rm -rf "$rootfs"
        if ! debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
                "$SUITE" "$rootfs" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1; then
            tail -20 "$CACHE/debootstrap.log"
            fail "debootstrap $SUITE from $MIRROR failed (see $CACHE/debootstrap.log)"
            exit 1
        fi
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
        tar -C "$rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
        rm -rf "$rootfs"
    fi
    log "importing the root file system as $BASE"
    ctr=$(B from scratch)
    B add "$ctr" "$tarball" / >/dev/null
    B config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env LANG=C.UTF-8 \
        --cmd python3 --created-by "debootstrap --variant=minbase $SUITE" "$ctr"
    B commit --quiet "$ctr" "$BASE" >/dev/null
    B rm "$ctr" >/dev/null
    done_ "base image $BASE made with debootstrap ($(elapsed "$t"))"
fi
probe=$(B from --quiet "$BASE")
PYVER=$(B run --isolation chroot "$probe" -- python3 -c \
    'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")' 2>/dev/null | tail -1)
echo "base image python: cp$PYVER"

# ---------------------------------------------------------------- 3. build context + wheels
# A staging copy of what .dockerignore lets through, so that downloaded wheels never land in
# the working tree.
CTX=$CACHE/context
rm -rf "$CTX" && mkdir -p "$CTX"
cp -a "$ROOT/tensorlab" "$ROOT/cuda_kernels" "$ROOT/docker" "$ROOT/.dockerignore" "$CTX/"
find "$CTX" -name __pycache__ -prune -exec rm -rf {} +

if B run --isolation chroot "$probe" -- python3 -c \
        'import urllib.request; urllib.request.urlopen("https://pypi.org/simple/pip/", timeout=15)' >/dev/null 2>&1; then
    NO_INDEX=0
    done_ "build containers reach PyPI: pip installs from the index"
else
    NO_INDEX=1
    echo "build containers cannot reach PyPI over TLS (no network, or an intercepting proxy whose CA the"
    echo "base image lacks): downloading wheels on the host and building with PIP_NO_INDEX=1"
fi
B rm "$probe" >/dev/null 2>&1

host_pip() {  # pip download for the base image's Python and glibc (bookworm: 2.36)
    local py=python3 plats=() v
    [ -x "$ROOT/.venv/bin/python" ] && py=$ROOT/.venv/bin/python
    for v in $(seq 36 -1 5); do plats+=(--platform "manylinux_2_${v}_x86_64"); done
    plats+=(--platform manylinux2014_x86_64 --platform manylinux2010_x86_64 --platform manylinux1_x86_64)
    "$py" -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
        --python-version "$PYVER" --implementation cp "${plats[@]}" "$@" 2>&1 | grep -v "^WARNING: Location"
    return "${PIPESTATUS[0]}"
}

fetch_wheels() {  # $1: requirements file name, $2: cache subfolder
    local dest=$CACHE/wheels/$2
    mkdir -p "$dest"
    host_pip -d "$dest" -r "$ROOT/docker/$1" || return 1
    local w
    for w in "$dest"/*.whl; do
        ln -f "$w" "$CTX/docker/wheels/" 2>/dev/null || cp -f "$w" "$CTX/docker/wheels/" || return 1
    done
}

build() {  # $1: Dockerfile, $2: tag, $3: what
    local t; t=$(date +%s)
    log "building $2 from $1 (BASE_IMAGE=$BASE)"
    # No --layers: with the vfs driver every cached step is a full copy of the file system.
    if B bud --isolation chroot --pull=never -f "$CTX/$1" -t "$2" \
            --build-arg BASE_IMAGE="$BASE" --build-arg PIP_NO_INDEX="$NO_INDEX" "$CTX" 2>&1 | tail -15; then
        local size
        size=$(B images --format '{{.Size}}' "$2" 2>/dev/null | head -1)
        done_ "built $2 from $1 ($3; $size; $(elapsed "$t"))"
        return 0
    fi
    fail "building $2 from $1 failed (output above)"
    return 1
}

# ---------------------------------------------------------------- 4. CPU image: build, demo
cpu_ok=0
if [ "$NO_INDEX" = 1 ] && ! fetch_wheels requirements-cpu.txt cpu; then
    fail "pip download of the CPU wheels failed (output above)"
else
    build docker/Dockerfile.cpu "$CPU_IMAGE" "CPU" && cpu_ok=1
fi

run_in() {  # $1: image, then the command; runs with the image's user, env and workdir
    local ctr rc
    ctr=$(B from --quiet "$1")
    shift
    B run --isolation chroot "${VOLS[@]}" "$ctr" -- "$@"
    rc=$?
    B rm "$ctr" >/dev/null 2>&1
    return $rc
}

default_command() {  # the image's ENTRYPOINT + CMD, one word a line
    B inspect --type image "$1" | python3 -c 'import json, sys
c = json.load(sys.stdin)["OCIv1"]["config"]
print("\n".join((c.get("Entrypoint") or []) + (c.get("Cmd") or [])))'
}

if [ "$cpu_ok" = 1 ]; then
    mapfile -t CMD < <(default_command "$CPU_IMAGE")
    log "running the CPU image's default command: ${CMD[*]}"
    VOLS=()
    t=$(date +%s)
    out=$(run_in "$CPU_IMAGE" "${CMD[@]}" 2>&1)
    rc=$?
    echo "$out" | grep -v -E '^\s*[0-9]+/[0-9]+ \[' | tail -25
    acc=$(echo "$out" | grep -o 'test accuracy [0-9.]*' | tail -1)
    if [ $rc = 0 ] && [ -n "$acc" ]; then
        done_ "digits demo in $CPU_IMAGE (default command): $acc ($(elapsed "$t"))"
    else
        fail "digits demo in $CPU_IMAGE exited with $rc${acc:+ ($acc)}"
    fi

    # ------------------------------------------------------------ 5. SIGTERM / resume
    log "SIGTERM/resume scenario in $CPU_IMAGE"
    CK=$CACHE/run/checkpoints
    rm -rf "$CACHE/run" && mkdir -p "$CK" && chown 1000:1000 "$CK" 2>/dev/null || chmod 777 "$CK"
    VOLS=(-v "$CK:/checkpoints")
    PRE=(/bin/sh /usr/local/bin/tensorlab-entrypoint python -m tensorlab.examples.preemptible
         --checkpoint-dir /checkpoints --epochs 4 --step-delay 0.02)
    t=$(date +%s)
    run_in "$CPU_IMAGE" "${PRE[@]}" --pid-file /checkpoints/pid >"$CACHE/run/first.log" 2>&1 &
    runner=$!
    for _ in $(seq 1 600); do
        [ -s "$CK/pid" ] && grep -q "saved after 1 epoch" "$CACHE/run/first.log" && break
        kill -0 "$runner" 2>/dev/null || break
        sleep 0.1
    done
    pid=$(cat "$CK/pid" 2>/dev/null)
    # chroot isolation shares the host's process namespace: the pid written inside is this one.
    if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; then
        wait "$runner"; rc1=$?
        cat "$CACHE/run/first.log"
        state=$(cat "$CK/state.json" 2>/dev/null)
        if [ $rc1 = 0 ] && echo "$state" | grep -q '"reason": "SIGTERM"'; then
            done_ "SIGTERM mid-training in $CPU_IMAGE: exit 0, checkpoint $(echo "$state" | tr -d '\n ' | grep -o '"epoch":[0-9]*,"step":[0-9]*')"
            out=$(run_in "$CPU_IMAGE" "${PRE[@]}" 2>&1); rc2=$?
            echo "$out"
            fin=$(echo "$out" | grep -o 'finished: .*')
            resumed=$(echo "$out" | grep -o 'resuming after .* step(s)')
            total=$(echo "$fin" | grep -o '[0-9]* of [0-9]* in all')
            if [ $rc2 = 0 ] && [ -n "$resumed" ] && [ -n "$total" ] &&
                    [ "$(echo "$total" | awk '{print $1}')" = "$(echo "$total" | awk '{print $3}')" ]; then
                done_ "restart with the same volume: $resumed; $total optimizer steps ($(elapsed "$t"))"
            else
                fail "restart after SIGTERM did not resume and finish (exit $rc2)"
            fi
        else
            fail "SIGTERM run in $CPU_IMAGE: exit $rc1, state.json: ${state:-missing}"
        fi
    else
        wait "$runner" 2>/dev/null
        cat "$CACHE/run/first.log"
        fail "SIGTERM scenario: training process not found to signal (pid '${pid}')"
    fi
else
    not_done "demo and SIGTERM scenario in the CPU image: the image was not built"
fi

# ---------------------------------------------------------------- 6. GPU image
storage=/var/lib/containers/storage
mkdir -p "$storage"
free_gb=$(( $(df -Pk "$storage" | awk 'NR==2 {print $4}') / 1048576 ))
if [ "$BUILD_GPU" = 0 ]; then
    not_done "GPU image: skipped (DOCKER_SMOKE_GPU=0)"
elif [ "$free_gb" -lt 20 ]; then
    not_done "GPU image: skipped, only ${free_gb} GB free under $storage (its vfs build needs ~15 GB)"
else
    if [ "$NO_INDEX" = 1 ] && ! fetch_wheels requirements-gpu.txt gpu; then
        fail "pip download of the GPU wheels (cupy-cuda13x[ctk]) failed (output above)"
    elif build docker/Dockerfile "$GPU_IMAGE" "GPU, CuPy + CUDA wheels"; then
        VOLS=()
        out=$(run_in "$GPU_IMAGE" /bin/sh /usr/local/bin/tensorlab-entrypoint \
              python -c "import cupy; print('cupy', cupy.__version__)" 2>&1); rc=$?
        echo "$out"
        if [ $rc = 0 ]; then
            done_ "GPU image starts and imports $(echo "$out" | grep -o '^cupy .*')"
        else
            fail "GPU image: entrypoint + import cupy failed (exit $rc)"
        fi
        not_done "training in the GPU image: this machine has no GPU (the device report above says why it fell back to the CPU)"
    fi
fi
not_done "docker run / docker compose: no Docker daemon here; images were run with buildah run --isolation chroot"
[ "$FAILED" = 0 ]
