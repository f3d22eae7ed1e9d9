#!/usr/bin/env python3
"""tests/k8s_double.py: a Kubernetes API server double for the tests.

Serves ConfigMaps the way kube-apiserver does, over HTTPS with a bearer
token, so that cimaster's configmap backend and a real kubectl can both
talk to it: GET/PUT/POST/DELETE of /api/v1/namespaces/NS/configmaps[/NAME]
with etcd-like resourceVersions (one global counter), the exact Status
bodies of the real server, and the discovery documents kubectl reads.
A second, plain-HTTP listener on loopback is the test's control panel:
fault injection (latency, 500s before or after the write, plain-text
429s, a conflict storm, hung requests or handshakes), counters, and a
way to set an object directly (what etcdctl would do).

Python 3 standard library only, with the plumbing it shares with
tests/prow_double.py in tests/doubles.py beside it.  Run by tests/lib.sh
(k8s_start):

  k8s_double.py --dir DIR --cert CRT --key KEY --token-file FILE [--port N]

DIR/port and DIR/admin_port say where it listens once it is ready.
DIR/objects/NS/NAME.json is each object as served, replaced atomically
on every change, so a test can read the store with jq.  Restarted with
the same DIR (and --port), it serves the same objects and versions.

Where a body or a rule mirrors kube-apiserver, the comment names the
source file in kubernetes/kubernetes it comes from.
"""

import argparse
import base64
import datetime
import json
import os
import random
import re
import sys
import threading
import time
import uuid

# The shared plumbing sits beside this file; the tests run it from the
# build directory, and must not leave __pycache__ in the sources.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import doubles  # noqa: E402

# core.MaxSecretSize, which ValidateConfigMap applies to the sum of the
# data and binaryData values (pkg/apis/core/validation/validation.go,
# ValidateConfigMap; pkg/apis/core/types.go).
MAX_DATA_BYTES = 1024 * 1024
# The request body limit of kube-apiserver (--max-request-bytes default,
# staging/src/k8s.io/apiserver/pkg/server/config.go MaxRequestBodyBytes).
MAX_BODY_BYTES = 3 * 1024 * 1024
# IsConfigMapKey (staging/src/k8s.io/apimachinery/pkg/util/validation/
# validation.go): the keys a ConfigMap may have.
CONFIG_MAP_KEY = re.compile(r"\A[-._a-zA-Z0-9]+\Z")
DNS1123_SUBDOMAIN = re.compile(
    r"\A[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")

NS_PATH = re.compile(r"\A/api/v1/namespaces/([^/]+)/?\Z")
START_TIME = datetime.datetime.now(datetime.timezone.utc).strftime(
    "%Y-%m-%dT%H:%M:%SZ")
CM_PATH = re.compile(
    r"\A/api/v1/namespaces/([^/]+)/configmaps(?:/([^/]+))?/?\Z")

# Fields of ObjectMeta a client may set; the server owns the others
# (uid, resourceVersion, creationTimestamp, ...).  Order as in the Go
# struct, which is the order kube-apiserver serialises them in.
META_CLIENT_FIELDS = ("name", "generateName", "namespace", "labels",
                      "annotations", "ownerReferences", "finalizers")


def go_json(obj):
    """JSON the way Go's encoding/json writes it: compact, UTF-8, with
    <, >, & and U+2028/2029 escaped, and the newline json.Encoder adds
    (staging/src/k8s.io/apimachinery/pkg/runtime/serializer/json/json.go
    encodes with json.NewEncoder(w).Encode)."""
    s = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                 ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        s = s.replace(a, b)
    return (s + "\n").encode("utf-8")


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


# ---- Status bodies -------------------------------------------------------
# All from staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go; the
# field order is metav1.Status's: kind, apiVersion, metadata, status,
# message, reason, details, code.  Empty fields are omitted as Go's
# omitempty does.

def status(code, message, reason="", details=None):
    st = {"kind": "Status", "apiVersion": "v1", "metadata": {},
          "status": "Failure", "message": message}
    if reason:
        st["reason"] = reason
    if details:
        st["details"] = details
    st["code"] = code
    return code, st


def st_not_found(name):
    # NewNotFound(schema.GroupResource{Resource: "configmaps"}, name)
    return status(404, 'configmaps "%s" not found' % name, "NotFound",
                  {"name": name, "kind": "configmaps"})


def st_already_exists(name):
    # NewAlreadyExists
    return status(409, 'configmaps "%s" already exists' % name,
                  "AlreadyExists", {"name": name, "kind": "configmaps"})


def st_conflict(name):
    # NewConflict(qualifiedResource, name, fmt.Errorf(OptimisticLockErrorMsg))
    # in Store.Update, staging/src/k8s.io/apiserver/pkg/registry/generic/
    # registry/store.go.
    return status(409, 'Operation cannot be fulfilled on configmaps "%s": '
                  'the object has been modified; please apply your changes '
                  'to the latest version and try again' % name, "Conflict",
                  {"name": name, "kind": "configmaps"})


def st_invalid(name, causes):
    """NewInvalid(GroupKind{Kind: "ConfigMap"}, name, errs): causes are
    (type, field, body) where body is field.Error.ErrorBody(); the message
    is the aggregate of "field: body" (util/validation/field/errors.go)."""
    agg = ", ".join("%s: %s" % (f, b) for _, f, b in causes)
    if len(causes) > 1:
        agg = "[" + agg + "]"
    return status(422, 'ConfigMap "%s" is invalid: %s' % (name, agg),
                  "Invalid",
                  {"name": name, "kind": "ConfigMap",
                   "causes": [{"reason": t, "message": b, "field": f}
                              for t, f, b in causes]})


def st_unauthorized():
    # apierrors.NewUnauthorized("Unauthorized") in the authentication
    # filter, staging/src/k8s.io/apiserver/pkg/endpoints/filters/
    # authentication.go: no details.
    return status(401, "Unauthorized", "Unauthorized")


def st_bad_request(message):
    return status(400, message, "BadRequest")


def st_internal(message):
    # NewInternalError(err)
    return status(500, "Internal error occurred: %s" % message,
                  "InternalError", {"causes": [{"message": message}]})


# ---- the objects ---------------------------------------------------------

class Store:
    """The objects and the one resourceVersion counter, as etcd keeps
    them: every write of any object takes the next revision."""

    def __init__(self, root):
        self.lock = threading.Lock()
        self.root = root
        self.objects = {}
        self.rv = 0
        os.makedirs(os.path.join(root, "objects"), exist_ok=True)
        for ns in sorted(os.listdir(os.path.join(root, "objects"))):
            d = os.path.join(root, "objects", ns)
            for f in sorted(os.listdir(d)):
                if f.endswith(".json"):
                    with open(os.path.join(d, f)) as fh:
                        obj = json.load(fh)
                    self.objects[(ns, f[:-5])] = obj
                    self.rv = max(self.rv,
                                  int(obj["metadata"]["resourceVersion"]))
        try:
            with open(os.path.join(root, "rv")) as fh:
                self.rv = max(self.rv, int(fh.read()))
        except FileNotFoundError:
            pass

    def path(self, ns, name):
        return os.path.join(self.root, "objects", ns, name + ".json")

    def _persist(self, ns, name):
        """Called with the lock held, after every change."""
        p = self.path(ns, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        obj = self.objects.get((ns, name))
        if obj is None:
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass
        else:
            with open(p + ".tmp", "wb") as fh:
                fh.write(go_json(obj))
            os.rename(p + ".tmp", p)
        with open(os.path.join(self.root, "rv.tmp"), "w") as fh:
            fh.write(str(self.rv))
        os.rename(os.path.join(self.root, "rv.tmp"),
                  os.path.join(self.root, "rv"))

    def next_rv(self):
        self.rv += 1
        return str(self.rv)


def normalise(body, ns, name, existing=None):
    """The object as the server stores it: known fields only, in Go's
    order, with the server's own metadata."""
    meta_in = body.get("metadata") or {}
    meta = {}
    for k in META_CLIENT_FIELDS:
        if k in meta_in and meta_in[k] not in (None, "", {}, []):
            meta[k] = meta_in[k]
    meta["name"] = name
    meta["namespace"] = ns
    if existing is not None:
        meta["uid"] = existing["metadata"]["uid"]
        meta["creationTimestamp"] = existing["metadata"]["creationTimestamp"]
    else:
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_rfc3339()
    ordered = {}
    for k in ("name", "generateName", "namespace", "uid", "resourceVersion",
              "creationTimestamp", "labels", "annotations",
              "ownerReferences", "finalizers"):
        if k in meta:
            ordered[k] = meta[k]
    obj = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": ordered}
    if body.get("immutable") is not None:
        obj["immutable"] = body["immutable"]
    if body.get("data"):
        obj["data"] = body["data"]
    if body.get("binaryData"):
        obj["binaryData"] = body["binaryData"]
    return obj


def set_rv(obj, rv):
    """resourceVersion goes after uid, as in ObjectMeta."""
    m = obj["metadata"]
    out = {}
    for k, v in m.items():
        if k == "resourceVersion":
            continue
        out[k] = v
        if k == "uid":
            out["resourceVersion"] = rv
    if "resourceVersion" not in out:
        out["resourceVersion"] = rv
    obj["metadata"] = out


def decode_configmap(raw):
    """Parses a request body into a ConfigMap, or returns a Status.  The
    400 text follows the real decoder's form ('... cannot be handled as
    a ConfigMap: ...', staging/src/k8s.io/apiserver/pkg/endpoints/
    handlers/rest.go); the part after the colon is Python's, not Go's."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return None, st_bad_request(
            'ConfigMap in version "v1" cannot be handled as a ConfigMap: %s'
            % exc)
    if not isinstance(body, dict):
        return None, st_bad_request(
            'ConfigMap in version "v1" cannot be handled as a ConfigMap: '
            'the body is not a JSON object')
    kind, apiv = body.get("kind"), body.get("apiVersion")
    if kind not in (None, "", "ConfigMap") or apiv not in (None, "", "v1"):
        return None, st_bad_request(
            'ConfigMap in version "v1" cannot be handled as a ConfigMap: '
            'the body is a %s of %s' % (kind, apiv))
    for key in ("data", "binaryData"):
        v = body.get(key)
        if v is None:
            continue
        if not isinstance(v, dict) or not all(
                isinstance(x, str) for x in v.values()):
            return None, st_bad_request(
                'ConfigMap in version "v1" cannot be handled as a ConfigMap: '
                'json: cannot unmarshal into Go struct field ConfigMap.%s '
                'of type string' % key)
    meta = body.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        return None, st_bad_request(
            'ConfigMap in version "v1" cannot be handled as a ConfigMap: '
            'metadata is not an object')
    return body, None


def unknown_fields(body):
    """The fields a v1 ConfigMap does not have, as the strict decoder
    names them (".metadata.x" below the top level)."""
    out = ['"%s"' % k for k in body if k not in CONFIGMAP_FIELDS]
    out += ['".metadata.%s"' % k for k in (body.get("metadata") or {})
            if k not in META_FIELDS]
    return out


def validate(body, name):
    """ValidateConfigMap (pkg/apis/core/validation/validation.go): the
    keys, and the total size of data plus binaryData, reported as
    field.TooLong(field.NewPath(""), "", core.MaxSecretSize): the path ""
    prints as "[]" (util/validation/field/path.go) and TooLong's detail is
    "must have at most %d bytes" (util/validation/field/errors.go)."""
    causes = []
    total = 0
    for key in ("data", "binaryData"):
        for k, v in sorted((body.get(key) or {}).items()):
            if not CONFIG_MAP_KEY.match(k) or len(k) > 253:
                causes.append((
                    "FieldValueInvalid", "%s[%s]" % (key, k),
                    'Invalid value: "%s": a valid config key must consist of '
                    "alphanumeric characters, '-', '_' or '.' (e.g. "
                    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used "
                    "for validation is '[-._a-zA-Z0-9]+')" % k))
            if key == "binaryData":
                try:
                    total += len(base64.b64decode(v, validate=True))
                except ValueError:
                    total += len(v)
            else:
                total += len(v.encode("utf-8"))
    if total > MAX_DATA_BYTES:
        causes.append(("FieldValueTooLong", "[]",
                       "Too long: must have at most %d bytes" %
                       MAX_DATA_BYTES))
    if causes:
        return st_invalid(name, causes)
    return None


def human_duration(seconds):
    """duration.HumanDuration (staging/src/k8s.io/apimachinery/pkg/util/
    duration/duration.go), to the day."""
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return "%ds" % seconds
    m = seconds // 60
    if m < 10:
        return "%dm%ds" % (m, seconds % 60) if seconds % 60 else "%dm" % m
    if m < 180:
        return "%dm" % m
    h = m // 60
    if h < 8:
        return "%dh%dm" % (h, m % 60) if m % 60 else "%dh" % h
    if h < 48:
        return "%dh" % h
    return "%dd" % (h // 24)


def as_table(body):
    """What kubectl get asks for (Accept: ...;as=Table;g=meta.k8s.io): the
    server-side printing of a ConfigMap, columns Name, Data, Age
    (pkg/printers/internalversion/printers.go, printConfigMap), each row
    with the object's metadata as PartialObjectMetadata."""
    items = body["items"] if body.get("kind") == "ConfigMapList" else [body]
    rows = []
    for it in items:
        created = datetime.datetime.strptime(
            it["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ"
        ).replace(tzinfo=datetime.timezone.utc)
        age = int((datetime.datetime.now(datetime.timezone.utc) -
                   created).total_seconds())
        rows.append({
            "cells": [it["metadata"]["name"],
                      len(it.get("data") or {}) +
                      len(it.get("binaryData") or {}),
                      human_duration(age)],
            "object": {"kind": "PartialObjectMetadata",
                       "apiVersion": "meta.k8s.io/v1",
                       "metadata": it["metadata"]}})
    rv = (body.get("metadata") or {}).get("resourceVersion", "")
    return {
        "kind": "Table", "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv},
        "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name",
             "description": "Name must be unique within a namespace.",
             "priority": 0},
            {"name": "Data", "type": "integer", "format": "",
             "description": "Data contains the configuration data.",
             "priority": 0},
            {"name": "Age", "type": "string", "format": "",
             "description": "CreationTimestamp is a timestamp representing "
             "the server time when this object was created.",
             "priority": 0}],
        "rows": rows}


# ---- faults --------------------------------------------------------------

# The part of the core/v1 OpenAPI v3 document that kubectl reads before
# create and replace: queryParamVerifierV3 (staging/src/k8s.io/cli-runtime/
# pkg/resource/query_param_verifier_v3.go) looks for the PATCH operation
# tagged with the ConfigMap's group-version-kind and checks that it lists
# the fieldValidation query parameter.  Then kubectl sends
# fieldValidation=Strict and leaves validation to the server.
OPENAPI_HASH = "C1D0B1E5CIMASTERDOUBLE"
OPENAPI_V3_CORE = {
    "openapi": "3.0.0",
    "info": {"title": "Kubernetes", "version": "v1.30.0"},
    "paths": {
        "/api/v1/namespaces/{namespace}/configmaps/{name}": {
            "patch": {
                "operationId": "patchCoreV1NamespacedConfigMap",
                "parameters": [
                    {"name": "fieldValidation", "in": "query",
                     "schema": {"type": "string", "uniqueItems": True}},
                    {"name": "fieldManager", "in": "query",
                     "schema": {"type": "string", "uniqueItems": True}},
                ],
                "responses": {},
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": {
                    "group": "", "version": "v1", "kind": "ConfigMap"},
            },
        },
    },
    "components": {"schemas": {}},
}



def _pb_varint(n):
    out = b""
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def _pb(num, *parts):
    """One length-delimited protobuf field (a string or a message)."""
    data = b"".join(p.encode() if isinstance(p, str) else p for p in parts)
    return _pb_varint(num << 3 | 2) + _pb_varint(len(data)) + data


def _pb_true(num):
    return _pb_varint(num << 3) + b"\x01"


# The same PATCH operation in OpenAPI v2, which kubectl 1.27 and 1.28
# read instead (query_param_verifier.go in the same directory), as the
# gnostic protobuf they ask for (message numbers from openapiv2/
# OpenAPIv2.proto in google/gnostic: Document.paths 8, Paths.path 2,
# NamedPathItem 1/2, PathItem.patch 8, Operation.operation_id 5,
# .parameters 8, .vendor_extension 13, ParametersItem.parameter 1,
# Parameter.non_body_parameter 2, NonBodyParameter.query_parameter_sub_
# schema 3, QueryParameterSubSchema in 2, name 4, type 6, unique_items 20,
# NamedAny 1/2, Any.yaml 2).
OPENAPI_V2_PB_TYPE = ("application/com.github.proto-openapi.spec.v2.v1.0"
                      "+protobuf")
_GVK_YAML = 'group: ""\nkind: ConfigMap\nversion: v1\n'


def _pb_query_param(name):
    return _pb(8, _pb(1, _pb(2, _pb(3, _pb(2, "query"), _pb(4, name),
                                     _pb(6, "string"), _pb_true(20)))))


OPENAPI_V2_PB = (
    _pb(1, "2.0") + _pb(2, _pb(1, "Kubernetes"), _pb(2, "v1.30.0")) +
    _pb(8, _pb(2,
        _pb(1, "/api/v1/namespaces/{namespace}/configmaps/{name}"),
        _pb(2, _pb(8,
            _pb(5, "patchCoreV1NamespacedConfigMap"),
            _pb_query_param("fieldValidation"),
            _pb_query_param("fieldManager"),
            _pb(13, _pb(1, "x-kubernetes-group-version-kind"),
                _pb(2, _pb(2, _GVK_YAML))))))))
OPENAPI_V2_JSON = {
    "swagger": "2.0",
    "info": {"title": "Kubernetes", "version": "v1.30.0"},
    "paths": {"/api/v1/namespaces/{namespace}/configmaps/{name}": {
        "patch": {
            "operationId": "patchCoreV1NamespacedConfigMap",
            "parameters": [
                {"name": "fieldValidation", "in": "query", "type": "string",
                 "uniqueItems": True},
                {"name": "fieldManager", "in": "query", "type": "string",
                 "uniqueItems": True}],
            "responses": {},
            "x-kubernetes-group-version-kind": {
                "group": "", "version": "v1", "kind": "ConfigMap"}}}},
}

# The fields a v1 ConfigMap has, for fieldValidation=Strict.
CONFIGMAP_FIELDS = ("kind", "apiVersion", "metadata", "immutable", "data",
                    "binaryData")
META_FIELDS = ("name", "generateName", "namespace", "selfLink", "uid",
               "resourceVersion", "generation", "creationTimestamp",
               "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
               "annotations", "ownerReferences", "finalizers",
               "managedFields")


class Faults(doubles.Faults):
    """What the test asked for; changed through the control listener."""

    DEFAULTS = {
        "latency_ms": 0,        # added before every ConfigMap request
        "fail500": 0.0,         # share of ConfigMap requests answered 500
        "fail500_after": 0.0,   # of those 500s on a write, the share that
                                # is sent after the write took effect
        "fail429": 0.0,         # share answered with the plain-text 429
        "fail429_next": 0,      # the next N requests get that 429
        "fail500_next": 0,      # the next N requests get a 500 (before)
        "fail500_after_next": 0,  # the next N writes take effect, then 500
        "methods": [],          # the methods faults apply to; [] = all
        "storm_hz": 0,          # another writer bumping storm_target
        "storm_target": "ci/clusters",
        "hang": "",             # "", "request" (read it, never answer) or
                                # "handshake" (accept, never do TLS)
        "token_grace_ms": 0,    # how long a replaced token still works
    }

    def applies(self, method):
        with self.lock:
            m = self.v["methods"]
        return not m or method in m


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.c = {}
        self.inflight = 0

    def add(self, k, n=1):
        with self.lock:
            self.c[k] = self.c.get(k, 0) + n

    def enter(self):
        with self.lock:
            self.inflight += 1
            if self.inflight > self.c.get("max_inflight", 0):
                self.c["max_inflight"] = self.inflight

    def leave(self):
        with self.lock:
            self.inflight -= 1

    def snapshot(self):
        with self.lock:
            return dict(self.c)

    def reset(self):
        with self.lock:
            self.c = {}


class Tokens:
    """The bearer token, re-read from its file on every request.  When the
    file changes, the previous token keeps working for token_grace_ms,
    as a projected service account token stays valid for a while after
    the kubelet writes the next one."""

    def __init__(self, path, faults):
        self.path = path
        self.faults = faults
        self.lock = threading.Lock()
        self.current = self._read()
        self.previous = None
        self.previous_until = 0.0

    def _read(self):
        return doubles.read_token(self.path)

    def check(self, header):
        tok = doubles.bearer(header)
        new = self._read()
        with self.lock:
            if new is not None and new != self.current:
                self.previous = self.current
                self.previous_until = (time.monotonic() +
                                       self.faults.get("token_grace_ms") /
                                       1000.0)
                self.current = new
            if not tok:
                return False
            if tok == self.current:
                return True
            return (tok == self.previous and
                    time.monotonic() < self.previous_until)


# ---- the API listener ----------------------------------------------------

class ApiHandler(doubles.Handler):
    server_version = "k8s-double"

    # The apiserver answers every method itself; BaseHTTPRequestHandler
    # dispatches on do_METHOD.
    def do_GET(self):
        self.serve("GET")

    def do_PUT(self):
        self.serve("PUT")

    def do_POST(self):
        self.serve("POST")

    def do_DELETE(self):
        self.serve("DELETE")

    def do_PATCH(self):
        self.serve("PATCH")

    def send(self, code, body, ctype="application/json", headers=()):
        if isinstance(body, (dict, list)):
            data = go_json(body)
        else:
            data = body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", str(uuid.uuid4()))
        for k, v in headers:
            self.send_header(k, v)
        for w in getattr(self, "warnings", ()):
            self.send_header("Warning", w)
        self.warnings = ()
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.server.stats.add("%s %d" % (self.command, code))

    def send_status(self, st):
        code, body = st
        self.send(code, body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY_BYTES:
            # limitedReadBody, staging/src/k8s.io/apiserver/pkg/endpoints/
            # handlers/rest.go: NewRequestEntityTooLargeError("limit is N")
            self.close_connection = True
            return None, status(413, "Request entity too large: limit is %d"
                                % MAX_BODY_BYTES, "RequestEntityTooLarge")
        return self.rfile.read(n) if n else b"", None

    def serve(self, method):
        srv = self.server
        srv.stats.enter()
        try:
            super().serve(method)
        finally:
            srv.stats.leave()

    def hung(self):
        self.server.stats.add("hung")

    def _serve(self, method):
        srv = self.server
        path = self.path.split("?", 1)[0]
        query = self.path[len(path) + 1:]
        body, st = self.read_body()
        srv.stats.add("requests")
        if srv.faults.get("hang") == "request":
            srv.faults.wait_unhung("request")
            raise doubles.Hung()
        if st:
            return self.send_status(st)
        # What system:public-info-viewer may read without a token.
        public = path in ("/version", "/healthz", "/livez", "/readyz")
        if not public and not srv.tokens.check(
                self.headers.get("Authorization")):
            srv.stats.add("unauthorized")
            return self.send_status(st_unauthorized())
        m = NS_PATH.match(path)
        if m and method == "GET":
            # Every namespace exists.  kubectl reads the namespace after a
            # NotFound, to tell a missing object from a missing namespace.
            return self.send(200, {
                "kind": "Namespace", "apiVersion": "v1",
                "metadata": {"name": m.group(1),
                             "uid": str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                   m.group(1))),
                             "resourceVersion": "1",
                             "creationTimestamp": START_TIME,
                             "labels": {"kubernetes.io/metadata.name":
                                        m.group(1)}},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"}})
        m = CM_PATH.match(path)
        if m:
            return self.configmaps(method, m.group(1), m.group(2), body,
                                   query)
        if method != "GET":
            return self.send_status(status(
                405, "the server does not allow this method on the "
                "requested resource", "MethodNotAllowed"))
        return self.discovery(path)

    # -- discovery: what kubectl get/create/replace read ------------------

    def discovery(self, path):
        srv = self.server
        if path == "/version":
            return self.send(200, {
                "major": "1", "minor": "30",
                "gitVersion": "v1.30.0-cimaster-double",
                "gitCommit": "0000000000000000000000000000000000000000",
                "gitTreeState": "clean",
                "buildDate": "2026-01-01T00:00:00Z",
                "goVersion": "go1.22.0", "compiler": "gc",
                "platform": "linux/amd64"})
        if path in ("/healthz", "/livez", "/readyz"):
            return self.send(200, b"ok", "text/plain; charset=utf-8")
        if path == "/api":
            # Plain application/json, so kubectl takes the legacy
            # (unaggregated) discovery path it falls back to.
            return self.send(200, {
                "kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{
                    "clientCIDR": "0.0.0.0/0",
                    "serverAddress": "127.0.0.1:%d" % srv.server_port}]})
        if path == "/apis":
            return self.send(200, {"kind": "APIGroupList",
                                   "apiVersion": "v1", "groups": []})
        if path == "/api/v1":
            return self.send(200, {
                "kind": "APIResourceList", "groupVersion": "v1",
                "resources": [{
                    "name": "configmaps", "singularName": "configmap",
                    "namespaced": True, "kind": "ConfigMap",
                    "verbs": ["create", "delete", "get", "list", "update"],
                    "shortNames": ["cm"],
                    "storageVersionHash": "qFsyl6wFWjQ="}, {
                    "name": "namespaces", "singularName": "namespace",
                    "namespaced": False, "kind": "Namespace",
                    "verbs": ["get"], "shortNames": ["ns"],
                    "storageVersionHash": "Q3oi5N2YM8M="}]})
        if path == "/openapi/v3":
            return self.send(200, {"paths": {"api/v1": {
                "serverRelativeURL":
                    "/openapi/v3/api/v1?hash=" + OPENAPI_HASH}}})
        if path == "/openapi/v3/api/v1":
            return self.send(200, OPENAPI_V3_CORE)
        if path == "/openapi/v2":
            # kubectl 1.27 and 1.28 ask this one, in protobuf only.
            if "protobuf" in (self.headers.get("Accept") or ""):
                return self.send(200, OPENAPI_V2_PB, OPENAPI_V2_PB_TYPE)
            return self.send(200, OPENAPI_V2_JSON)
        return self.send(404, b"404 page not found\n",
                         "text/plain; charset=utf-8")

    # -- ConfigMaps ---------------------------------------------------------

    def configmaps(self, method, ns, name, raw, query):
        srv = self.server
        f = srv.faults
        if f.applies(method):
            lat = f.get("latency_ms")
            if lat:
                time.sleep(lat / 1000.0)
            if f.take("fail429_next") or random.random() < f.get("fail429"):
                # tooManyRequests, staging/src/k8s.io/apiserver/pkg/server/
                # filters/maxinflight.go: Retry-After "1" and Go's
                # http.Error (text/plain, nosniff, the text plus "\n").
                srv.stats.add("injected_429")
                return self.send(
                    429, b"Too many requests, please try again later.\n",
                    "text/plain; charset=utf-8",
                    [("Retry-After", "1"),
                     ("X-Content-Type-Options", "nosniff")])
            if f.take("fail500_next"):
                srv.stats.add("injected_500")
                return self.send_status(st_internal(
                    "injected by the API server double"))
            write = method in ("PUT", "POST")
            if write and f.get("fail500_after_next") > 0:
                # Spent only on a write that succeeds, so that N of them
                # surely reach the client as 500s.
                code, body = self.apply(method, ns, name, raw, query)
                if code < 300 and f.take("fail500_after_next"):
                    srv.stats.add("injected_500_after")
                    return self.send_status(st_internal(
                        "injected by the API server double after the "
                        "write"))
                return self.send(code, body)
            if random.random() < f.get("fail500"):
                after = write and random.random() < f.get("fail500_after")
                if not after:
                    srv.stats.add("injected_500")
                    return self.send_status(st_internal(
                        "injected by the API server double"))
                # The write happens, the answer says it failed: what a
                # client sees when etcd commits but the reply is lost.
                code, _ = self.apply(method, ns, name, raw, query)
                srv.stats.add("injected_500_after" if code < 300 else
                              "injected_500_after_failed_write")
                return self.send_status(st_internal(
                    "injected by the API server double after the write"))
        code, body = self.apply(method, ns, name, raw, query)
        if (code == 200 and method == "GET" and
                "as=Table" in (self.headers.get("Accept") or "")):
            body = as_table(body)
        return self.send(code, body)

    def apply(self, method, ns, name, raw, query):
        """The request proper: (code, body)."""
        srv = self.server
        store = srv.store
        if method == "GET":
            with store.lock:
                if name is None:
                    items = []
                    for (ons, oname), obj in sorted(store.objects.items()):
                        if ons == ns:
                            it = dict(obj)
                            # List items carry no kind/apiVersion.
                            it.pop("kind", None)
                            it.pop("apiVersion", None)
                            items.append(it)
                    return 200, {"kind": "ConfigMapList", "apiVersion": "v1",
                                 "metadata": {"resourceVersion":
                                              str(store.rv)},
                                 "items": items}
                obj = store.objects.get((ns, name))
                if obj is None:
                    return st_not_found(name)
                return 200, obj
        if method == "DELETE":
            if name is None:
                return status(405, "the double does not delete collections",
                              "MethodNotAllowed")
            with store.lock:
                obj = store.objects.pop((ns, name), None)
                if obj is None:
                    return st_not_found(name)
                store.next_rv()
                store._persist(ns, name)
            # Store.Delete without ReturnDeletedObject answers a Success
            # Status with the details (staging/src/k8s.io/apiserver/pkg/
            # registry/generic/registry/store.go, finalizeDelete).
            return 200, {"kind": "Status", "apiVersion": "v1",
                         "metadata": {}, "status": "Success",
                         "details": {"name": name, "kind": "configmaps",
                                     "uid": obj["metadata"]["uid"]}}
        if method not in ("PUT", "POST"):
            return status(405, "the double does not implement %s" % method,
                          "MethodNotAllowed")
        ctype = (self.headers.get("Content-Type") or "").split(";")[0]
        if ctype.strip() != "application/json":
            # The negotiation error of the real decoder (staging/src/
            # k8s.io/apiserver/pkg/endpoints/handlers/negotiation/
            # errors.go, errUnsupportedMediaType), listing what the double
            # understands.
            return status(415, "the body of the request was in an unknown "
                          "format - accepted media types include: "
                          "application/json", "UnsupportedMediaType")
        body, st = decode_configmap(raw)
        if st:
            return st
        unknown = unknown_fields(body)
        if unknown:
            # fieldValidation (staging/src/k8s.io/apiserver/pkg/endpoints/
            # handlers/rest.go): Strict refuses unknown fields, the default
            # (Warn) drops them and says so in a Warning header.
            if "fieldValidation=Strict" in query.split("&"):
                return st_bad_request(
                    'ConfigMap in version "v1" cannot be handled as a '
                    'ConfigMap: strict decoding error: ' +
                    ", ".join("unknown field " + u for u in unknown))
            self.warnings = ['299 - "unknown field %s"' % u.strip('"')
                             for u in unknown]
        meta = body.get("metadata") or {}
        bname = meta.get("name") or ""
        bns = meta.get("namespace") or ""
        if method == "PUT":
            if name is None:
                return status(405, "PUT needs a name", "MethodNotAllowed")
            # checkName, staging/src/k8s.io/apiserver/pkg/endpoints/
            # handlers/rest.go.
            if bname != name:
                return st_bad_request(
                    "the name of the object (%s) does not match the name on "
                    "the URL (%s)" % (bname, name))
            if bns and bns != ns:
                return st_bad_request(
                    "the namespace of the object (%s) does not match the "
                    "namespace on the request (%s)" % (bns, ns))
            return self.update(ns, name, body, meta)
        if name is not None:
            return status(405, "POST goes to the collection",
                          "MethodNotAllowed")
        if bns and bns != ns:
            # EnsureObjectNamespaceMatchesRequestNamespace, staging/src/
            # k8s.io/apiserver/pkg/registry/rest/meta.go.
            return st_bad_request("the namespace of the provided object does "
                                  "not match the namespace sent on the "
                                  "request")
        if not bname:
            return st_invalid("", [(
                "FieldValueRequired", "metadata.name",
                "Required value: name or generateName is required")])
        if not DNS1123_SUBDOMAIN.match(bname) or len(bname) > 253:
            return st_invalid(bname, [(
                "FieldValueInvalid", "metadata.name",
                'Invalid value: "%s": a lowercase RFC 1123 subdomain must '
                "consist of lower case alphanumeric characters, '-' or '.', "
                "and must start and end with an alphanumeric character" %
                bname)])
        return self.create(ns, bname, body, meta)

    def update(self, ns, name, body, meta):
        srv = self.server
        store = srv.store
        want = meta.get("resourceVersion") or ""
        st = validate(body, name)
        with store.lock:
            cur = store.objects.get((ns, name))
            # ConfigMap's AllowCreateOnUpdate() is false: a PUT of a
            # missing object is 404 (pkg/registry/core/configmap/
            # strategy.go; Store.Update in .../registry/store.go).
            if cur is None:
                return st_not_found(name)
            if st:
                return st
            # ConfigMap's AllowUnconditionalUpdate() is true: a PUT without
            # metadata.resourceVersion overwrites whatever is there (same
            # files).  With one, it must equal the stored version, else 409
            # Conflict.
            if want:
                if not want.isdigit():
                    # ObjectResourceVersion fails to parse it: a BadRequest
                    # from the APIObjectVersioner (staging/src/k8s.io/
                    # apiserver/pkg/storage/api_object_versioner.go).
                    return st_bad_request(
                        'invalid resource version: strconv.ParseUint: '
                        'parsing "%s": invalid syntax' % want)
                if want != cur["metadata"]["resourceVersion"]:
                    srv.stats.add("conflicts")
                    return st_conflict(name)
            else:
                srv.stats.add("unconditional_updates")
            obj = normalise(body, ns, name, cur)
            set_rv(obj, store.next_rv())
            store.objects[(ns, name)] = obj
            store._persist(ns, name)
            srv.stats.add("updates")
            return 200, obj

    def create(self, ns, name, body, meta):
        srv = self.server
        store = srv.store
        if meta.get("resourceVersion"):
            # The storage layer refuses it (ErrResourceVersionSetOnCreate,
            # staging/src/k8s.io/apiserver/pkg/storage/errors.go), and a
            # plain error becomes a 500 with reason Unknown, which is
            # omitted (convertStorageErrorOrNot in staging/src/k8s.io/
            # apiserver/pkg/endpoints/handlers/responsewriters/status.go).
            return status(500, "resourceVersion should not be set on "
                          "objects to be created")
        st = validate(body, name)
        if st:
            return st
        with store.lock:
            if (ns, name) in store.objects:
                return st_already_exists(name)
            obj = normalise(body, ns, name)
            set_rv(obj, store.next_rv())
            store.objects[(ns, name)] = obj
            store._persist(ns, name)
            srv.stats.add("creates")
            return 201, obj


class TLSServer(doubles.Server):
    def __init__(self, addr, ctx, store, faults, stats, tokens):
        super().__init__(addr, ApiHandler, ctx)
        self.store = store
        self.faults = faults
        self.stats = stats
        self.tokens = tokens

    def accepted(self):
        # In the connection's own thread (doubles.Server): a hung
        # handshake holds up no one else.
        if self.faults.get("hang") == "handshake":
            self.stats.add("hung_handshakes")
            self.faults.wait_unhung("handshake")
            return False
        self.stats.add("connections")
        return True

    def tls_failed(self):
        self.stats.add("tls_failures")

    def handle_error(self, request, client_address):
        self.stats.add("handler_errors")
        super().handle_error(request, client_address)


# ---- the control listener ------------------------------------------------

class AdminHandler(doubles.AdminHandler):
    """GET /stats, POST /stats/reset, GET|POST /faults (a JSON object of
    the fields to change), GET|PUT|DELETE /objects/NS/NAME (set an object
    directly: a new uid if it did not exist, the next resourceVersion;
    metadata.resourceVersion in the body is ignored)."""

    def do_GET(self):
        api = self.server.main
        if self.path == "/stats":
            return self.reply(200, api.stats.snapshot())
        if self.path == "/faults":
            return self.reply(200, api.faults.update({}))
        m = re.match(r"\A/objects/([^/]+)/([^/]+)\Z", self.path)
        if m:
            with api.store.lock:
                obj = api.store.objects.get((m.group(1), m.group(2)))
            return self.reply(200 if obj else 404, obj or {})
        return self.reply(404, {"error": "no such control path"})

    def do_POST(self):
        api = self.server.main
        try:
            if self.path == "/faults":
                return self.reply(200, api.faults.update(self.body()))
            if self.path == "/stats/reset":
                api.stats.reset()
                return self.reply(200, {})
        except (KeyError, ValueError) as exc:
            return self.reply(400, {"error": "bad control request: %s" % exc})
        return self.reply(404, {"error": "no such control path"})

    def do_PUT(self):
        api = self.server.main
        m = re.match(r"\A/objects/([^/]+)/([^/]+)\Z", self.path)
        if not m:
            return self.reply(404, {"error": "no such control path"})
        ns, name = m.group(1), m.group(2)
        try:
            body = self.body()
        except ValueError as exc:
            return self.reply(400, {"error": "not JSON: %s" % exc})
        store = api.store
        with store.lock:
            obj = normalise(body, ns, name, store.objects.get((ns, name)))
            set_rv(obj, store.next_rv())
            store.objects[(ns, name)] = obj
            store._persist(ns, name)
        return self.reply(200, obj)

    def do_DELETE(self):
        api = self.server.main
        m = re.match(r"\A/objects/([^/]+)/([^/]+)\Z", self.path)
        if not m:
            return self.reply(404, {"error": "no such control path"})
        store = api.store
        with store.lock:
            gone = store.objects.pop((m.group(1), m.group(2)), None)
            if gone is not None:
                store.next_rv()
                store._persist(m.group(1), m.group(2))
        return self.reply(200 if gone else 404, {})


# ---- the conflict storm --------------------------------------------------

def storm(api):
    """Another writer: bumps storm_target storm_hz times a second, each
    time a real change (an annotation counter), so any client holding the
    previous version gets 409 Conflict on its next PUT."""
    n = 0
    while True:
        hz = api.faults.get("storm_hz")
        if not hz:
            with api.faults.lock:
                api.faults.changed.wait(0.5)
            continue
        time.sleep(1.0 / hz)
        ns, _, name = api.faults.get("storm_target").partition("/")
        store = api.store
        with store.lock:
            cur = store.objects.get((ns, name))
            if cur is None:
                continue
            n += 1
            obj = json.loads(json.dumps(cur))
            ann = obj["metadata"].setdefault("annotations", {})
            ann["cimaster-test/storm"] = str(n)
            obj = normalise(obj, ns, name, cur)
            set_rv(obj, store.next_rv())
            store.objects[(ns, name)] = obj
            store._persist(ns, name)
        api.stats.add("storm_writes")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    doubles.add_common_args(ap, tls_required=True)
    a = ap.parse_args()

    ctx = doubles.tls_context(a.cert, a.key)

    faults = Faults()
    stats = Stats()
    store = Store(a.dir)
    tokens = Tokens(a.token_file, faults)
    api = TLSServer((doubles.LOOPBACK, a.port), ctx, store, faults, stats,
                    tokens)
    admin = doubles.AdminServer((doubles.LOOPBACK, a.admin_port),
                                AdminHandler, api)
    threading.Thread(target=storm, args=(api,), daemon=True).start()
    doubles.run("k8s", a.dir, api, admin)


if __name__ == "__main__":
    main()
