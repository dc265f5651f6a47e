#!/bin/sh
# Runs `java "$@"` and stops it when the Node.js process that started us goes away, however it
# ends (even SIGKILL): our stdin is a pipe from that process, and EOF on it means it is gone.
exec 3<&0
java "$@" &
child=$!
trap 'kill "$child" 2>/dev/null; wait "$child"; exit 0' TERM INT HUP
cat <&3 >/dev/null &
watcher=$!
# Whichever ends first: java itself, or the parent's pipe.
while kill -0 "$child" 2>/dev/null && kill -0 "$watcher" 2>/dev/null; do sleep 1; done
kill "$child" "$watcher" 2>/dev/null
wait "$child"
