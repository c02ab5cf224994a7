#!/bin/sh
# Entry point of the kube-claims whoami fixture: busybox httpd on port 80, answering / with
# cgi-bin/index.cgi. httpd as PID 1 would ignore SIGTERM (PID 1 gets no default signal
# actions) and make every pod deletion wait out its grace period, so this shell stays PID 1
# and ends httpd on TERM, INT or QUIT.
#
# It listens only LISTEN_DELAY seconds after the container starts, like the book's ASP.NET app,
# which needs a moment (JIT, host start-up; a second or more, longer on a busy node) before it
# listens on :80. The book's manifests have no readiness probe, so the Pod is Ready before the
# app answers; 3 s here is longer than Ready-to-first-request in our tests (about 1-2 s), so a
# test that takes Ready to mean "listening" fails here too, not only with the book's image.
LISTEN_DELAY=3
root=/srv/whoami
echo "whoami: starting on $(hostname): busybox httpd on port 80 in ${LISTEN_DELAY}s, / answered by $root/cgi-bin/index.cgi"
pid=
trap '[ -z "$pid" ] || { kill -TERM "$pid" 2>/dev/null; wait "$pid"; }; echo "whoami: stopped"; exit 0' TERM INT QUIT
# The delay runs in the background, so that TERM during it ends the container at once.
sleep "$LISTEN_DELAY" &
pid=$!
wait "$pid"
httpd -f -p 80 -h "$root" 2>&1 &
pid=$!
echo "whoami: httpd started (pid $pid)"
wait "$pid"
