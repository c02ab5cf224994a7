#!/bin/sh
# Answer every request with the name of the container that served it.
printf 'Content-Type: text/plain\r\n\r\n'
echo "I'm $(hostname) running on $(uname -s)/$(uname -m)"
