#!/bin/sh
# Entry point of the kube-claims hello fixture, after the manner of the official nginx image:
# when the command is nginx, run the setup scripts in /docker-entrypoint.d/, saying what each
# one does on stdout, then replace this shell with the command, so that nginx is PID 1.
set -e

say() { echo "$0: $*"; }

if [ "$1" = nginx ]; then
  if [ -n "$(ls -A /docker-entrypoint.d/ 2>/dev/null)" ]; then
    say "/docker-entrypoint.d/ holds setup scripts, running them before nginx starts"
    say "looking for shell scripts in /docker-entrypoint.d/"
    for script in /docker-entrypoint.d/*.sh; do
      if [ -x "$script" ]; then
        say "running $script"
        "$script"
      else
        say "skipping $script, it is not executable"
      fi
    done
    say "setup done; starting nginx"
  else
    say "/docker-entrypoint.d/ is empty, starting nginx without setup"
  fi
fi

exec "$@"
