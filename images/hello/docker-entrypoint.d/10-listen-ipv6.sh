#!/bin/sh
# Listen on [::]:80 as well as 0.0.0.0:80 when the container has IPv6, as the official
# image does; otherwise nginx would refuse to start on a kernel without IPv6.
me=$(basename "$0")
conf=/etc/nginx/listen.d/ipv6.conf
if [ ! -f /proc/net/if_inet6 ]; then
  echo "$me: info: no IPv6 in this container, nginx listens on 0.0.0.0:80 only"
  exit 0
fi
if { mkdir -p /etc/nginx/listen.d && echo 'listen [::]:80;' >"$conf"; } 2>/dev/null; then
  echo "$me: info: IPv6 available, nginx listens on [::]:80 too ($conf)"
else
  echo "$me: info: cannot write $conf (read-only filesystem?), nginx listens on 0.0.0.0:80 only"
fi
