#!/usr/bin/env bash
# tests/expire_k8s.sh: tests/expire.sh with the configmap backend, against
# the Kubernetes API server double (tests/k8s_double.py): the same holds
# expire, the same messages arrive once, while the workers allocate from
# the same ConfigMap; and an API server that is down fails the run.
CM_BACKEND=configmap
. "${top_srcdir:-$(dirname "$0")/..}/tests/expire.sh"
