#!/bin/sh
# Name the page nginx is about to serve.
me=$(basename "$0")
page=/usr/share/nginx/html/index.html
if [ -f "$page" ]; then
  echo "$me: info: serving $page ($(wc -c <"$page") bytes) on port 80"
else
  echo "$me: warning: $page is missing; / will answer 403 or 404"
fi
