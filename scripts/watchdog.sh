#!/usr/bin/env bash
# The run's reaper, started detached by the test run (helpers/global-setup.ts): when process
# PID ends, however it ends (SIGKILL included), remove what the run labelled
# kube-claims.run=RUN (containers with their anonymous volumes, networks, volumes) and the
# run's temporary folder. A run that ends normally has removed them already; this finds
# nothing then. Testcontainers' Ryuk does the same for containers where its image can be
# pulled; this also works offline, and covers the temporary files.
#   usage: scripts/watchdog.sh PID RUN TMP_DIR
set -uo pipefail
pid=$1 run=$2 dir=$3
while kill -0 "$pid" 2>/dev/null; do sleep 1; done
filter=(--filter "label=kube-claims.run=$run")
ids=$(docker ps -aq "${filter[@]}")
[ -z "$ids" ] || docker rm -f -v $ids >/dev/null
docker network ls -q "${filter[@]}" | xargs -r docker network rm >/dev/null
docker volume ls -q "${filter[@]}" | xargs -r docker volume rm >/dev/null
rm -rf "$dir"
