#!/usr/bin/env python3
"""tests/prow_double.py: a Prow double for the createcluster tests.

Serves the two dialects of docs/prow.md on one loopback listener (HTTPS
with the test CA when --cert/--key are given, else plain HTTP), each
behind a bearer token:

gangway (Prow's REST API, kubernetes-sigs/prow pkg/gangway/gangway.proto):
  POST /v1/executions             {"job_name", "job_execution_type",
  POST /v1/executions/{job_name}   "refs", "pod_spec_options": {"envs",
                                   "labels", "annotations"}}
  200 {"id", "job_name", "job_type", "job_status": "TRIGGERED"
       [, "refs"][, "pod_spec_options"]}
  errors: {"code": GRPC_CODE, "message": "...", "details": []} with the
  HTTP status of the gRPC code (InvalidArgument 400, Unknown 500).
  Validation order and messages mirror CreateJobExecutionRequest.Validate,
  HandleProwJob and the job handlers in pkg/gangway/gangway.go; each rule
  below names its source.  The older per-job path takes job_name from the
  URL (it is not in today's gangway.proto: an assumption of issue 5).

manual-trigger (our own contract, no Prow source):
  POST /manual-trigger (--manual-path) with JSON
    {"job": J, "type": "periodic"|"postsubmit"|"presubmit",
     "refs": {"org", "repo", "base_ref", "base_sha", "pulls": [...]},
     "envs": {"AUTHOR": U, ...}}
  200 {"name": "<the ProwJob's name, a UUID>"}, application/json.
  400 text/plain "<message>\\n": not JSON, a missing or unknown "type",
      refs on a periodic job, missing refs on a post/presubmit, a missing
      refs field, a base_sha that is not 40 lowercase hex digits, a
      presubmit without pulls, an empty env name or value, an unknown field.
  401 text/plain "unauthorized\\n" (WWW-Authenticate: Bearer): no token or
      the wrong one.
  404 text/plain "unknown job: J\\n": J is not a job of that type.

Jobs: --job NAME=TYPE (periodic|postsubmit|presubmit), repeatable.  Token:
--token-file FILE, re-read on every request (so a test can rotate it).

A second, plain-HTTP listener on loopback is the control panel:
  GET  /_requests  every request received: method, path, headers (the
                   Authorization value replaced by "Bearer <redacted>"
                   plus whether it matched), body (text, and JSON if it
                   parsed), the status answered
  GET  /_executions  every job started: name, job, type, dialect
  POST /_reset     forgets the requests and executions and clears the
                   faults
  GET|POST /_faults  {"latency_ms": N, "fail_next": N, "fail_status":
                   500|401|503, "hang": bool}; POST changes the given fields

Python 3 standard library only, with the plumbing it shares with
tests/k8s_double.py in tests/doubles.py beside it.  Run as

  prow_double.py --dir DIR --token-file FILE --job NAME=TYPE ...
                 [--cert CRT --key KEY] [--manual-path P] [--port N]

DIR/port and DIR/admin_port say where it listens once it is ready.
"""

import argparse
import json
import os
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

# Bounds so that a runaway client ends (a forgotten fault ends after
# doubles.HANG_MAX_SECONDS).
MAX_BODY_BYTES = 1024 * 1024
MAX_RECORDS = 10000

GANGWAY_PATH = re.compile(r"\A/v1/executions(?:/([^/]+))?\Z")

# google.golang.org/grpc/codes and their HTTP statuses as gRPC-JSON
# transcoding maps them (grpc-gateway runtime.HTTPStatusFromCode; the
# same table as google/rpc/code.proto).
INVALID_ARGUMENT, UNKNOWN, INTERNAL, UNAVAILABLE, UNAUTHENTICATED = \
    3, 2, 13, 14, 16
HTTP_OF_CODE = {INVALID_ARGUMENT: 400, UNKNOWN: 500, INTERNAL: 500,
                UNAVAILABLE: 503, UNAUTHENTICATED: 401}

# JobExecutionType in pkg/gangway/gangway.proto.
EXEC_TYPES = {"JOB_EXECUTION_TYPE_UNSPECIFIED": 0, "PERIODIC": 1,
              "POSTSUBMIT": 2, "PRESUBMIT": 3, "BATCH": 4}
EXEC_TYPE_NAMES = {v: k for k, v in EXEC_TYPES.items()}
JOB_TYPES = ("periodic", "postsubmit", "presubmit")

# The message fields of gangway.proto, with the lowerCamelCase JSON names
# protojson also accepts.
REQ_FIELDS = {"job_name": "job_name", "jobName": "job_name",
              "job_execution_type": "job_execution_type",
              "jobExecutionType": "job_execution_type", "refs": "refs",
              "pod_spec_options": "pod_spec_options",
              "podSpecOptions": "pod_spec_options"}
REFS_FIELDS = {"org": "org", "repo": "repo", "repo_link": "repo_link",
               "repoLink": "repo_link", "base_ref": "base_ref",
               "baseRef": "base_ref", "base_sha": "base_sha",
               "baseSha": "base_sha", "base_link": "base_link",
               "baseLink": "base_link", "pulls": "pulls",
               "path_alias": "path_alias", "pathAlias": "path_alias",
               "work_dir": "work_dir", "workDir": "work_dir",
               "clone_uri": "clone_uri", "cloneUri": "clone_uri",
               "skip_submodules": "skip_submodules",
               "skipSubmodules": "skip_submodules",
               "clone_depth": "clone_depth", "cloneDepth": "clone_depth",
               "skip_fetch_head": "skip_fetch_head",
               "skipFetchHead": "skip_fetch_head"}
PSO_FIELDS = {"envs": "envs", "labels": "labels",
              "annotations": "annotations"}

# Pull.Validate in pkg/gangway/gangway.go.
PULL_SHA = re.compile(r"\A[0-9a-f]{40}\Z")
# Our own rule for the manual-trigger dialect (issue 5: "a 40-hex base_sha").
BASE_SHA = PULL_SHA
# validation.IsValidLabelValue (k8s.io/apimachinery/pkg/util/validation/
# validation.go): at most 63 characters of this form.
LABEL_VALUE = re.compile(r"\A(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")

# What the JSON/gRPC proxy in front of gangway (ESPv2, Cloud Endpoints)
# answers when the bearer token is missing or does not verify: a local
# reply {"code": <HTTP status>, "message": ...}.  The messages are ESPv2's
# jwt_authn texts as its issues quote them (GoogleCloudPlatform/esp-v2
# issue 472); not checked against its source.
ESP_JWT_MISSING = "Jwt is missing"
ESP_JWT_BAD = "Jwt verification fails"


def go_q(s):
    """Go's %q of a string (ASCII subset: enough for the messages)."""
    return json.dumps(s, ensure_ascii=False)


class GrpcError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


# ---- the gangway dialect -------------------------------------------------

def parse_message(obj, fields, what):
    """protojson: an object whose keys are the message's fields (either
    JSON name); null means unset.  An unknown field is refused with
    InvalidArgument, as protojson.Unmarshal does (its exact text is not
    reproduced)."""
    if not isinstance(obj, dict):
        raise GrpcError(INVALID_ARGUMENT,
                        "proto: syntax error: %s is not an object" % what)
    out = {}
    for k, v in obj.items():
        if k not in fields:
            raise GrpcError(INVALID_ARGUMENT,
                            "proto: unknown field %s" % go_q(k))
        if v is not None:
            out[fields[k]] = v
    return out


def parse_exec_type(v):
    """An enum is its name or its number in protojson."""
    if v is None:
        return 0
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, str) and v in EXEC_TYPES:
        return EXEC_TYPES[v]
    raise GrpcError(INVALID_ARGUMENT,
                    "proto: invalid value for enum field "
                    "job_execution_type: %s" % json.dumps(v))


def str_map(v, what):
    if not isinstance(v, dict) or not all(isinstance(x, str)
                                          for x in v.values()):
        raise GrpcError(INVALID_ARGUMENT,
                        "proto: %s is not a map of strings" % what)
    return v


def gangway_create(srv, raw, path_job):
    """CreateJobExecution: (status, body) of the answer."""
    try:
        doc = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise GrpcError(INVALID_ARGUMENT, "proto: syntax error: %s" % exc)
    req = parse_message(doc, REQ_FIELDS, "the request")
    if path_job is not None:
        # A path variable overrides the body's field in transcoding.
        req["job_name"] = path_job
    job = req.get("job_name", "")
    etype = parse_exec_type(req.get("job_execution_type"))
    refs = None
    if "refs" in req:
        refs = parse_message(req["refs"], REFS_FIELDS, "refs")
    pso = None
    if "pod_spec_options" in req:
        pso = parse_message(req["pod_spec_options"], PSO_FIELDS,
                            "pod_spec_options")

    # CreateJobExecutionRequest.Validate (pkg/gangway/gangway.go); its
    # errors become codes.InvalidArgument in CreateJobExecution.
    if not job:
        raise GrpcError(INVALID_ARGUMENT, "job_name field cannot be empty")
    tname = EXEC_TYPE_NAMES.get(etype, str(etype))
    if etype == 0:
        raise GrpcError(INVALID_ARGUMENT,
                        "unsupported JobExecutionType: %s" % tname)
    # "periodic jobs cannot also have gitRefs": any refs object, even {}
    # (gitRefs != nil).
    if etype == EXEC_TYPES["PERIODIC"] and refs is not None:
        raise GrpcError(INVALID_ARGUMENT,
                        "periodic jobs cannot also have gitRefs")
    if etype != EXEC_TYPES["PERIODIC"]:
        if refs is None:
            raise GrpcError(INVALID_ARGUMENT,
                            "gitRefs must be defined for %s" % go_q(tname))
        # Refs.Validate: org, repo, base_ref, base_sha non-empty (no form
        # check of base_sha), then each pull's sha 40 lowercase hex.
        for f, name in (("org", "Org"), ("repo", "Repo"),
                        ("base_ref", "BaseRef"), ("base_sha", "BaseSha")):
            if not refs.get(f):
                raise GrpcError(
                    INVALID_ARGUMENT, "gitRefs: failed to validate: "
                    "gitRefs: %s cannot be empty" % name)
        for p in refs.get("pulls") or []:
            sha = p.get("sha", "") if isinstance(p, dict) else ""
            if not PULL_SHA.match(sha):
                raise GrpcError(INVALID_ARGUMENT,
                                "gitRefs: failed to validate: pull: "
                                "invalid SHA: %s" % go_q(sha))
    if pso is not None:
        for k, v in str_map(pso.get("envs") or {}, "envs").items():
            if not k or not v:
                raise GrpcError(INVALID_ARGUMENT,
                                "invalid environment variable key/value "
                                "pair: %s, %s" % (go_q(k), go_q(v)))
        for k, v in str_map(pso.get("labels") or {}, "labels").items():
            if not k or not v:
                raise GrpcError(INVALID_ARGUMENT,
                                "invalid label key/value pair: %s, %s" %
                                (go_q(k), go_q(v)))
            if len(v) > 63 or not LABEL_VALUE.match(v):
                # The detail strings of IsValidLabelValue are not copied.
                raise GrpcError(INVALID_ARGUMENT,
                                "invalid label: the following errors "
                                "found: [%s]" % go_q("invalid label value"))
        for k, v in str_map(pso.get("annotations") or {},
                            "annotations").items():
            if not k or not v:
                raise GrpcError(INVALID_ARGUMENT,
                                "invalid annotation key/value pair: %s, %s"
                                % (go_q(k), go_q(v)))

    # HandleProwJob: getJobHandler, then the handler's getProwJobSpec.
    # Their errors are plain Go errors, which gRPC sends as codes.Unknown:
    # HTTP 500.
    if etype not in (1, 2, 3):
        raise GrpcError(UNKNOWN, "unsupported JobExecutionType type: %s"
                        % tname)
    jtype = JOB_TYPES[etype - 1]
    if etype in (2, 3):
        # validateRefs: a presubmit needs at least one pull.
        if etype == 3 and not refs.get("pulls"):
            raise GrpcError(UNKNOWN, "at least 1 Pulls is required")
    if srv.jobs.get(job) != jtype:
        if jtype == "periodic":
            raise GrpcError(UNKNOWN, "failed to find associated periodic "
                            "job %s" % go_q(job))
        org_repo = "%s/%s" % (refs["org"], refs["repo"])
        raise GrpcError(UNKNOWN, "failed to find associated %s job %s from "
                        "orgRepo %s" % (jtype, go_q(job), go_q(org_repo)))
    # The JobExecution HandleProwJob returns: the ProwJob's name (a UUID,
    # pjutil.NewProwJob) as id, TRIGGERED, the request's refs and
    # pod_spec_options.  create_time is not set there, so absent.
    name = str(uuid.uuid4())
    srv.created(name, job, jtype, "gangway")
    out = {"id": name, "job_name": job, "job_type": tname,
           "job_status": "TRIGGERED"}
    if refs is not None:
        out["refs"] = req["refs"]
    if pso is not None:
        out["pod_spec_options"] = req["pod_spec_options"]
    return 200, out


# ---- the manual-trigger dialect (our contract, see the top) --------------

class TextError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


MANUAL_FIELDS = ("job", "type", "refs", "envs")
MANUAL_REFS = ("org", "repo", "base_ref", "base_sha", "pulls")


def manual_create(srv, raw):
    try:
        doc = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError):
        raise TextError(400, "the body is not JSON")
    if not isinstance(doc, dict):
        raise TextError(400, "the body is not a JSON object")
    for k in doc:
        if k not in MANUAL_FIELDS:
            raise TextError(400, "unknown field %s" % go_q(k))
    job = doc.get("job")
    if not isinstance(job, str) or not job:
        raise TextError(400, "job is required")
    jtype = doc.get("type")
    if jtype not in JOB_TYPES:
        raise TextError(400, "type must be periodic, postsubmit or "
                        "presubmit")
    refs = doc.get("refs")
    if jtype == "periodic" and refs is not None:
        raise TextError(400, "periodic jobs cannot have refs")
    if jtype != "periodic":
        if not isinstance(refs, dict):
            raise TextError(400, "refs are required for %s jobs" % jtype)
        for k in refs:
            if k not in MANUAL_REFS:
                raise TextError(400, "unknown field refs.%s" % k)
        for f in ("org", "repo", "base_ref", "base_sha"):
            if not isinstance(refs.get(f), str) or not refs.get(f):
                raise TextError(400, "refs.%s is required" % f)
        if not BASE_SHA.match(refs["base_sha"]):
            raise TextError(400, "refs.base_sha must be 40 lowercase hex "
                            "digits")
        if jtype == "presubmit" and not refs.get("pulls"):
            raise TextError(400, "presubmit jobs need at least one pull")
    envs = doc.get("envs") or {}
    if not isinstance(envs, dict):
        raise TextError(400, "envs must be an object")
    for k, v in envs.items():
        if not k or not isinstance(v, str) or not v:
            raise TextError(400, "env %s has an empty value" % go_q(k)
                            if k else "an env has an empty name")
    if srv.jobs.get(job) != jtype:
        raise TextError(404, "unknown job: %s" % job)
    name = str(uuid.uuid4())
    srv.created(name, job, jtype, "manual-trigger")
    return 200, {"name": name}


# ---- faults and the record -----------------------------------------------

class Faults(doubles.Faults):
    DEFAULTS = {"latency_ms": 0, "fail_next": 0, "fail_status": 500,
                "hang": False}

    def check(self, k, val):
        if k == "fail_status" and val not in (500, 401, 503):
            raise ValueError("fail_status is 500, 401 or 503")

    def take_failure(self):
        """The status to fail this request with, or 0."""
        with self.lock:
            if self.v["fail_next"] > 0:
                self.v["fail_next"] -= 1
                return self.v["fail_status"]
            return 0


class ProwHandler(doubles.Handler):
    server_version = "prow-double"

    def do_POST(self):
        self.serve()

    def do_GET(self):
        self.serve()

    def do_PUT(self):
        self.serve()

    def send(self, code, body, ctype):
        data = body if isinstance(body, bytes) else (
            json.dumps(body) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        if code == 401:
            self.send_header("WWW-Authenticate", "Bearer")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.rec["status"] = code

    def send_grpc(self, e):
        self.send(HTTP_OF_CODE[e.code], {"code": e.code,
                                         "message": e.message,
                                         "details": []}, "application/json")

    def send_text(self, code, msg):
        self.send(code, (msg + "\n").encode(), "text/plain; charset=utf-8")

    def _serve(self):
        srv = self.server
        path = self.path.split("?", 1)[0]
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(min(n, MAX_BODY_BYTES)) if n else b""
        auth = srv.check_token(self.headers.get("Authorization"))
        hdrs = []
        for k, v in self.headers.items():
            if k.lower() == "authorization":
                v = "Bearer <redacted>" if v.startswith("Bearer ") \
                    else "<redacted>"
            hdrs.append([k, v])
        self.rec = {"method": self.command, "path": self.path,
                    "headers": hdrs, "auth": auth,
                    "body": raw.decode("utf-8", "replace"), "status": 0}
        try:
            self.rec["json"] = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            pass
        srv.record(self.rec)
        f = srv.faults
        if f.get("hang"):
            f.wait_unhung()
            raise doubles.Hung()
        lat = f.get("latency_ms")
        if lat:
            time.sleep(lat / 1000.0)
        m = GANGWAY_PATH.match(path)
        gangway = bool(m)
        if not gangway and path != srv.manual_path:
            return self.send(404, b"404 page not found\n",
                             "text/plain; charset=utf-8")
        if self.command != "POST":
            if gangway:
                return self.send_grpc(GrpcError(
                    INVALID_ARGUMENT, "the double serves POST only"))
            return self.send_text(405, "method not allowed")
        fail = f.take_failure()
        if fail:
            if fail == 401:
                return self.unauthorized(gangway, "bad")
            if gangway:
                return self.send_grpc(GrpcError(
                    INTERNAL if fail == 500 else UNAVAILABLE,
                    "injected by the Prow double"))
            return self.send_text(fail, "injected by the Prow double")
        if auth != "ok":
            return self.unauthorized(gangway, auth)
        try:
            if gangway:
                code, body = gangway_create(srv, raw, m.group(1))
            else:
                code, body = manual_create(srv, raw)
        except GrpcError as e:
            return self.send_grpc(e)
        except TextError as e:
            return self.send_text(e.status, e.message)
        return self.send(code, body, "application/json")

    def unauthorized(self, gangway, why):
        if gangway:
            return self.send(401, {"code": 401, "message": ESP_JWT_MISSING
                                   if why == "missing" else ESP_JWT_BAD},
                             "application/json")
        return self.send_text(401, "unauthorized")


class ProwServer(doubles.Server):
    def __init__(self, addr, ctx, token_file, jobs, manual_path):
        super().__init__(addr, ProwHandler, ctx)
        self.token_file = token_file
        self.jobs = jobs
        self.manual_path = manual_path
        self.faults = Faults()
        self.lock = threading.Lock()
        self.records = []
        self.executions = []

    def check_token(self, header):
        """"ok", "missing" or "bad"; the file is read every time."""
        tok = doubles.bearer(header)
        if not tok:
            return "missing"
        want = doubles.read_token(self.token_file)
        return "ok" if want and tok == want else "bad"

    def record(self, rec):
        with self.lock:
            if len(self.records) < MAX_RECORDS:
                self.records.append(rec)

    def created(self, name, job, jtype, dialect):
        with self.lock:
            self.executions.append({"name": name, "job": job,
                                    "type": jtype, "dialect": dialect})


class AdminHandler(doubles.AdminHandler):
    def do_GET(self):
        p = self.server.main
        if self.path == "/_requests":
            with p.lock:
                return self.reply(200, list(p.records))
        if self.path == "/_executions":
            with p.lock:
                return self.reply(200, list(p.executions))
        if self.path == "/_faults":
            return self.reply(200, p.faults.update({}))
        return self.reply(404, {"error": "no such control path"})

    def do_POST(self):
        p = self.server.main
        raw = self.raw_body()
        if self.path == "/_reset":
            with p.lock:
                p.records = []
                p.executions = []
            p.faults.update(Faults.DEFAULTS)
            return self.reply(200, {})
        if self.path == "/_faults":
            try:
                return self.reply(200, p.faults.update(json.loads(
                    raw or b"{}")))
            except (KeyError, ValueError, AttributeError) as exc:
                return self.reply(400, {"error": "bad fault: %s" % exc})
        return self.reply(404, {"error": "no such control path"})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    doubles.add_common_args(ap, tls_required=False)
    ap.add_argument("--job", action="append", default=[],
                    help="NAME=periodic|postsubmit|presubmit")
    ap.add_argument("--manual-path", default="/manual-trigger")
    a = ap.parse_args()
    jobs = {}
    for spec in a.job:
        name, _, jtype = spec.partition("=")
        if not name or jtype not in JOB_TYPES:
            ap.error("--job wants NAME=periodic|postsubmit|presubmit")
        jobs[name] = jtype
    ctx = doubles.tls_context(a.cert, a.key) if a.cert else None
    prow = ProwServer((doubles.LOOPBACK, a.port), ctx, a.token_file, jobs,
                      a.manual_path)
    admin = doubles.AdminServer((doubles.LOOPBACK, a.admin_port),
                                AdminHandler, prow)
    doubles.run("prow", a.dir, prow, admin)


if __name__ == "__main__":
    main()
