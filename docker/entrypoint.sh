#!/bin/sh
# Logs what the container runs on, then replaces itself with the command, so that the
# command gets `docker stop`'s SIGTERM directly (tensorlab.keras.callbacks_preempt).
set -e
if [ "${TENSORLAB_DEVICE_REPORT:-1}" != "0" ]; then
    python -m tensorlab.examples.device_report || echo "[tensorlab] device report failed" >&2
fi
exec "$@"
