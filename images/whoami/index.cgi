#!/bin/sh
# GET / of the whoami fixture: a JSON string naming the container and its kernel, like the
# book's .NET app ("I'm <hostname> running on <RuntimeInformation.OSDescription>").
# One line per request goes to the container's log (httpd's stderr, sent to stdout).
json_escape() { sed 's/\\/\\\\/g; s/"/\\"/g'; }
body="I'm $(hostname) running on $(uname -s) $(uname -r) $(uname -v)"
client=${REMOTE_ADDR#\[}; client=${client%\]}; client=${client#::ffff:}
echo "whoami: $client \"$REQUEST_METHOD $REQUEST_URI\" 200" >&2
printf 'Content-Type: application/json; charset=utf-8\r\n\r\n'
printf '"%s"' "$(printf '%s' "$body" | json_escape)"
