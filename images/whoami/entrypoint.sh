#!/bin/sh
# Entry point of the kube-claims whoami fixture: busybox httpd on port 80, answering / with
# cgi-bin/index.cgi. httpd as PID 1 would ignore SIGTERM (PID 1 gets no default signal
# actions) and make every pod deletion wait out its grace period, so this shell stays PID 1
# and ends httpd on TERM, INT or QUIT.
root=/srv/whoami
echo "whoami: starting on $(hostname): busybox httpd on port 80, / answered by $root/cgi-bin/index.cgi"
httpd -f -p 80 -h "$root" 2>&1 &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid"; echo "whoami: stopped"; exit 0' TERM INT QUIT
wait "$pid"
