/*
 * test_cfg: the configuration file as an operator writes it: defaults,
 * a file with every key read back field by field, and each kind of
 * mistake reported as "file:line: key: what is wrong" and refused.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "errors.h"
#include "log.h"
#include "util.h"

#define TMP_TEMPLATE	"/tmp/test_cfg.XXXXXX"

/* Writes text to a new temporary file whose name goes into path. */
static void
write_conf(char *path, size_t pathsz, const char *text)
{
	size_t	len = strlen(text);
	int	fd;

	assert_int_equal(util_strlcpy_checked(path, TMP_TEMPLATE, pathsz), 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* Loads text into c: the return of cfg_load(); e gets the error. */
static int
load_text(struct cfg *c, const char *text, struct err *e, char *path,
    size_t pathsz)
{
	int	rc;

	write_conf(path, pathsz, text);
	errors_clear(e);
	rc = cfg_load(c, path, e);
	assert_int_equal(unlink(path), 0);
	return rc;
}

/*
 * text must be refused with exactly "TMPFILE:line: want" (or, when
 * prefix is set, a message that starts so).
 */
static void
expect_error(const char *text, int line, const char *want, int prefix)
{
	static struct cfg	c;
	struct err		e;
	char			path[sizeof(TMP_TEMPLATE)];
	char			full[ERR_MSG_MAX];

	cfg_defaults(&c);
	assert_int_equal(load_text(&c, text, &e, path, sizeof(path)), -1);
	assert_int_equal(e.code, ERR_INTERNAL);
	(void)snprintf(full, sizeof(full), "%s:%d: %s", path, line, want);
	if (prefix) {
		if (strncmp(e.msg, full, strlen(full)) != 0)
			fail_msg("got \"%s\", want a prefix \"%s\"", e.msg,
			    full);
	} else
		assert_string_equal(e.msg, full);
}

static void
expect_ok(struct cfg *c, const char *text)
{
	struct err	e;
	char		path[sizeof(TMP_TEMPLATE)];

	if (load_text(c, text, &e, path, sizeof(path)) != 0)
		fail_msg("unexpected error: %s", e.msg);
	assert_string_equal(c->path, path);
}

static void
test_defaults_are_the_documented_ones(void **state)
{
	static struct cfg	c;

	cfg_defaults(&c);
	assert_string_equal(c.socket, "/run/cimaster/fcgi.sock");
	assert_int_equal(c.workers, 4);
	assert_string_equal(c.user, "cimaster");
	assert_string_equal(c.socket_group, "");
	assert_int_equal(c.grace_seconds, 120);
	assert_int_equal(c.backlog, 128);
	assert_int_equal(c.log_level, LOG_LEVEL_INFO);
	assert_int_equal(c.nadmins, 0);
	assert_string_equal(c.default_purpose, "tess-ci");
	assert_int_equal(c.hold_hours, 6);
	assert_int_equal(c.max_hold_hours, 72);
	assert_int_equal(c.retry_after_seconds, 30);
	assert_int_equal(c.backend, CFG_BACKEND_FILE);
	assert_string_equal(c.file_path, "/var/lib/cimaster/clusters.json");
	assert_string_equal(c.cm_server, "");
	assert_string_equal(c.cm_ca_file, "");
	assert_string_equal(c.cm_token_file, "");
	assert_string_equal(c.cm_namespace, "ci");
	assert_string_equal(c.cm_name, "clusters");
	assert_int_equal(c.cm_create_if_missing, 0);
	assert_int_equal(c.retry_policy, CFG_RETRY_DEFAULT);
	assert_int_equal(c.retry_attempts, 0);
	assert_int_equal(c.retry_base_ms, 10);
	assert_int_equal(c.retry_cap_ms, 500);
	assert_int_equal(c.retry_deadline_ms, 10000);
	assert_int_equal(c.prow_dialect, CFG_PROW_GANGWAY);
	assert_string_equal(c.prow_url, "");
	assert_string_equal(c.prow_token_file, "");
	assert_string_equal(c.prow_gangway_path, "/v1/executions");
	assert_int_equal(c.prow_connect_timeout_ms, 2000);
	assert_int_equal(c.prow_timeout_ms, 10000);
	assert_int_equal(c.prow_max_response_bytes, 65536);
	assert_int_equal(c.nprow_jobs, 0);
	assert_string_equal(c.webhook_url, "");
	assert_int_equal(c.warn_minutes, 30);
}

static void
test_an_empty_file_gives_the_defaults_and_records_its_path(void **state)
{
	static struct cfg	c, d;

	expect_ok(&c, "# nothing to change\n");
	cfg_defaults(&d);
	assert_int_equal(util_strlcpy_checked(d.path, c.path, sizeof(d.path)),
	    0);
	assert_memory_equal(&c, &d, sizeof(c));
}

static const char full_file[] =
    "# every key, none at its default\n"
    "server: {\n"
    "  socket  = \"/tmp/cim/fcgi.sock\";\n"
    "  workers = 8;\n"
    "  user    = \"ci_runner\";\n"
    "  socket_group = \"www-data\";\n"
    "  grace_seconds = 0;\n"
    "  backlog = 1024;\n"
    "  log_level = \"debug\";\n"
    "};\n"
    "admins = [ \"alice\", \"bob@example.com\", \"alice\" ];\n"
    "clusters: {\n"
    "  default_purpose = \"gpu.v2\";\n"
    "  hold_hours      = 12;\n"
    "  max_hold_hours  = 8760;\n"
    "  retry_after_seconds = 3600;\n"
    "};\n"
    "store: {\n"
    "  backend = \"configmap\";\n"
    "  file: {\n"
    "    path = \"/srv/cimaster/state.json\";\n"
    "  };\n"
    "  configmap: {\n"
    "    server     = \"https://10.0.0.1:6443\";\n"
    "    ca_file    = \"/etc/cimaster/ca.crt\";\n"
    "    token_file = \"/etc/cimaster/token\";\n"
    "    namespace  = \"ci-infra\";\n"
    "    name       = \"cluster-pool\";\n"
    "    create_if_missing = true;\n"
    "  };\n"
    "  retry: {\n"
    "    policy   = \"seed\";\n"
    "    attempts = 1000;\n"
    "    base_ms  = 1;\n"
    "    cap_ms   = 60000;\n"
    "    deadline_ms = 600000L;   # int64 is fine when in range\n"
    "  };\n"
    "};\n"
    "prow: {\n"
    "  dialect    = \"manual-trigger\";\n"
    "  url        = \"https://prow.example.com/gangway\";\n"
    "  token_file = \"/etc/cimaster/prow-token\";\n"
    "  gangway_path = \"/v1/executions/{job}\";\n"
    "  connect_timeout_ms = 60000;\n"
    "  timeout_ms = 120000;\n"
    "  max_response_bytes = 1024;\n"
    "  jobs = (\n"
    "    { name = \"e2e-k8s-1.32\"; type = \"periodic\"; },\n"
    "    { name = \"build image\"; type = \"postsubmit\";\n"
    "      refs = { org = \"acme\"; repo = \"images\";\n"
    "               base_ref = \"main\";\n"
    "               base_sha = \"0123456789abcdef0123456789ABCDEF01234567\"; };\n"
    "    },\n"
    "    { type = \"presubmit\"; name = \"lint\";\n"
    "      refs = { base_sha = \"ffffffffffffffffffffffffffffffffffffffff\";\n"
    "               base_ref = \"release-1.2\"; repo = \"r\"; org = \"o\"; }; }\n"
    "  );\n"
    "};\n"
    "expire: {\n"
    "  webhook_url  = \"http://hooks.example.com/cimaster\";\n"
    "  warn_minutes = 1440;\n"
    "  webhook_timeout_ms = 60000;\n"
    "};\n";

static void
test_a_file_with_every_key_fills_every_field(void **state)
{
	static struct cfg	c;

	expect_ok(&c, full_file);
	assert_string_equal(c.socket, "/tmp/cim/fcgi.sock");
	assert_int_equal(c.workers, 8);
	assert_string_equal(c.user, "ci_runner");
	assert_string_equal(c.socket_group, "www-data");
	assert_int_equal(c.grace_seconds, 0);
	assert_int_equal(c.backlog, 1024);
	assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(c.nadmins, 3);
	assert_string_equal(c.admins[0], "alice");
	assert_string_equal(c.admins[1], "bob@example.com");
	assert_string_equal(c.admins[2], "alice");
	assert_string_equal(c.default_purpose, "gpu.v2");
	assert_int_equal(c.hold_hours, 12);
	assert_int_equal(c.max_hold_hours, 8760);
	assert_int_equal(c.retry_after_seconds, 3600);
	assert_int_equal(c.backend, CFG_BACKEND_CONFIGMAP);
	assert_string_equal(c.file_path, "/srv/cimaster/state.json");
	assert_string_equal(c.cm_server, "https://10.0.0.1:6443");
	assert_string_equal(c.cm_ca_file, "/etc/cimaster/ca.crt");
	assert_string_equal(c.cm_token_file, "/etc/cimaster/token");
	assert_string_equal(c.cm_namespace, "ci-infra");
	assert_string_equal(c.cm_name, "cluster-pool");
	assert_int_equal(c.cm_create_if_missing, 1);
	assert_int_equal(c.retry_policy, CFG_RETRY_SEED);
	assert_int_equal(c.retry_attempts, 1000);
	assert_int_equal(c.retry_base_ms, 1);
	assert_int_equal(c.retry_cap_ms, 60000);
	assert_int_equal(c.retry_deadline_ms, 600000);
	assert_int_equal(c.prow_dialect, CFG_PROW_MANUAL_TRIGGER);
	assert_string_equal(c.prow_url, "https://prow.example.com/gangway");
	assert_string_equal(c.prow_token_file, "/etc/cimaster/prow-token");
	assert_int_equal(c.nprow_jobs, 3);
	assert_string_equal(c.prow_jobs[0].name, "e2e-k8s-1.32");
	assert_string_equal(c.prow_jobs[0].type, "periodic");
	assert_string_equal(c.prow_jobs[0].org, "");
	assert_string_equal(c.prow_jobs[0].base_sha, "");
	assert_string_equal(c.prow_jobs[1].name, "build image");
	assert_string_equal(c.prow_jobs[1].type, "postsubmit");
	assert_string_equal(c.prow_jobs[1].org, "acme");
	assert_string_equal(c.prow_jobs[1].repo, "images");
	assert_string_equal(c.prow_jobs[1].base_ref, "main");
	assert_string_equal(c.prow_jobs[1].base_sha,
	    "0123456789abcdef0123456789ABCDEF01234567");
	assert_string_equal(c.prow_jobs[2].name, "lint");
	assert_string_equal(c.prow_jobs[2].type, "presubmit");
	assert_string_equal(c.prow_jobs[2].org, "o");
	assert_string_equal(c.prow_jobs[2].repo, "r");
	assert_string_equal(c.prow_jobs[2].base_ref, "release-1.2");
	assert_string_equal(c.prow_jobs[2].base_sha,
	    "ffffffffffffffffffffffffffffffffffffffff");
	assert_string_equal(c.prow_gangway_path, "/v1/executions/{job}");
	assert_int_equal(c.prow_connect_timeout_ms, 60000);
	assert_int_equal(c.prow_timeout_ms, 120000);
	assert_int_equal(c.prow_max_response_bytes, 1024);
	assert_string_equal(c.webhook_url, "http://hooks.example.com/cimaster");
	assert_int_equal(c.warn_minutes, 1440);
	assert_int_equal(c.webhook_timeout_ms, 60000);
}

static void
test_keys_left_out_keep_their_defaults(void **state)
{
	static struct cfg	c;

	expect_ok(&c, "server: { workers = 2; };\n"
	    "store: { retry: { policy = \"seed\"; }; };\n");
	assert_int_equal(c.workers, 2);
	assert_int_equal(c.retry_policy, CFG_RETRY_SEED);
	assert_int_equal(c.grace_seconds, 120);
	assert_string_equal(c.user, "cimaster");
	assert_int_equal(c.retry_cap_ms, 500);
	assert_string_equal(c.cm_namespace, "ci");
	assert_int_equal(c.warn_minutes, 30);
	assert_int_equal(c.webhook_timeout_ms, 5000);
}

static void
test_each_log_level_maps_to_enum_log_level(void **state)
{
	static struct cfg	c;

	expect_ok(&c, "server: { log_level = \"error\"; };\n");
	assert_int_equal(c.log_level, LOG_LEVEL_ERROR);
	expect_ok(&c, "server: { log_level = \"warn\"; };\n");
	assert_int_equal(c.log_level, LOG_LEVEL_WARN);
	expect_ok(&c, "server: { log_level = \"info\"; };\n");
	assert_int_equal(c.log_level, LOG_LEVEL_INFO);
	expect_ok(&c, "server: { log_level = \"debug\"; };\n");
	assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
}

static void
test_a_missing_file_is_named_in_the_error(void **state)
{
	static struct cfg	c;
	struct err		e;

	errors_clear(&e);
	assert_int_equal(cfg_load(&c, "/nonexistent/cimaster.conf", &e), -1);
	assert_string_equal(e.msg,
	    "/nonexistent/cimaster.conf: No such file or directory");
}

static void
test_an_unknown_top_level_key_is_refused_with_its_line(void **state)
{
	expect_error("server: { workers = 2; };\n"
	    "\n"
	    "verbose = true;\n", 3, "verbose: unknown key", 0);
}

static void
test_an_unknown_nested_key_is_refused_with_its_dotted_path(void **state)
{
	expect_error("store: {\n"
	    "  retry: {\n"
	    "    policy = \"seed\";\n"
	    "    polcy = \"default\";\n"
	    "  };\n"
	    "};\n", 4, "store.retry.polcy: unknown key", 0);
}

static void
test_an_unknown_key_in_a_prow_job_names_the_job(void **state)
{
	expect_error("prow: {\n"
	    "  jobs = (\n"
	    "    { name = \"a\"; type = \"periodic\"; },\n"
	    "    { name = \"b\"; type = \"periodic\";\n"
	    "      colour = \"red\"; }\n"
	    "  );\n"
	    "};\n", 5, "prow.jobs[1].colour: unknown key", 0);
}

static void
test_a_prow_job_without_a_type_is_refused(void **state)
{
	expect_error("prow: {\n"
	    "  jobs = (\n"
	    "    { name = \"a\"; }\n"
	    "  );\n"
	    "};\n", 3, "prow.jobs[0]: type is missing", 0);
}

static void
test_a_bad_prow_job_type_lists_the_choices(void **state)
{
	expect_error("prow: { jobs = ( { name = \"a\"; "
	    "type = \"nightly\"; } ); };\n", 1,
	    "prow.jobs[0].type: must be one of \"periodic\", "
	    "\"postsubmit\", \"presubmit\"", 0);
}

static void
test_a_postsubmit_or_presubmit_without_refs_is_refused(void **state)
{
	expect_error("prow: {\n"
	    "  jobs = (\n"
	    "    { name = \"a\"; type = \"periodic\"; },\n"
	    "    { name = \"b\"; type = \"postsubmit\"; }\n"
	    "  );\n"
	    "};\n", 4, "prow.jobs[1]: a postsubmit job needs refs { org, "
	    "repo, base_ref, base_sha }", 0);
	expect_error("prow: { jobs = ( { name = \"a\"; "
	    "type = \"presubmit\"; } ); };\n", 1,
	    "prow.jobs[0]: a presubmit job needs refs { org, repo, "
	    "base_ref, base_sha }", 0);
}

static void
test_incomplete_or_bad_refs_are_refused(void **state)
{
	expect_error("prow: {\n"
	    "  jobs = ( { name = \"b\"; type = \"postsubmit\";\n"
	    "    refs = { org = \"o\"; repo = \"r\";\n"
	    "             base_ref = \"main\"; }; } );\n"
	    "};\n", 3, "prow.jobs[0].refs: base_sha is missing", 0);
	expect_error("prow: { jobs = ( { name = \"b\"; type = \"postsubmit\";"
	    " refs = { org = \"o\"; repo = \"r\"; base_ref = \"main\";"
	    " base_sha = \"abc123\"; }; } ); };\n", 1,
	    "prow.jobs[0].refs.base_sha: must be a commit id of 40 hex "
	    "digits", 0);
	expect_error("prow: { jobs = ( { name = \"b\"; type = \"postsubmit\";"
	    " refs = { org = \"o\"; repo = \"r\"; base_ref = \"main\";"
	    " base_sha = \"0123456789abcdef0123456789abcdef0123456g\"; }; }"
	    " ); };\n", 1,
	    "prow.jobs[0].refs.base_sha: must be a commit id of 40 hex "
	    "digits", 0);
	expect_error("prow: { jobs = ( { name = \"b\"; type = \"postsubmit\";"
	    " refs = { org = \"o\"; repo = \"r\"; base_ref = \"main\";"
	    " base_sha = \"" "0123456789abcdef0123456789abcdef01234567\";"
	    " branch = \"x\"; }; } ); };\n", 1,
	    "prow.jobs[0].refs.branch: unknown key", 0);
}

static void
test_a_periodic_job_with_refs_is_refused(void **state)
{
	expect_error("prow: {\n"
	    "  jobs = ( { name = \"p\"; type = \"periodic\";\n"
	    "    refs = { org = \"o\"; repo = \"r\"; base_ref = \"main\";\n"
	    "      base_sha = \"0123456789abcdef0123456789abcdef01234567\"; };"
	    " } );\n"
	    "};\n", 2, "prow.jobs[0]: a periodic job takes no refs (Prow "
	    "refuses them)", 0);
}

static void
test_the_prow_client_keys_have_ranges_and_an_order(void **state)
{
	expect_error("prow: { gangway_path = \"v1/executions\"; };\n", 1,
	    "prow.gangway_path: must be a path starting with / without "
	    "spaces", 0);
	expect_error("prow: { connect_timeout_ms = 99; };\n", 1,
	    "prow.connect_timeout_ms: 99 is out of range (100..60000)", 0);
	expect_error("prow: { max_response_bytes = 1023; };\n", 1,
	    "prow.max_response_bytes: 1023 is out of range "
	    "(1024..16777216)", 0);
	expect_error("prow: { connect_timeout_ms = 5000; timeout_ms = 4000; "
	    "};\n", 1, "prow.connect_timeout_ms: 5000 is greater than "
	    "prow.timeout_ms (4000)", 0);
}

static void
test_a_string_where_an_integer_belongs_is_a_type_error(void **state)
{
	expect_error("server: {\n"
	    "  workers = \"4\";\n"
	    "};\n", 2, "server.workers: expected an integer, got a string", 0);
	expect_error("server: { grace_seconds = 1.5; };\n", 1,
	    "server.grace_seconds: expected an integer, got a float", 0);
}

static void
test_other_wrong_types_are_refused(void **state)
{
	expect_error("store: { configmap: { create_if_missing = \"yes\"; }; "
	    "};\n", 1, "store.configmap.create_if_missing: expected true or "
	    "false, got a string", 0);
	expect_error("clusters = 3;\n", 1,
	    "clusters: expected a group { }, got an integer", 0);
	expect_error("admins = \"alice\";\n", 1,
	    "admins: expected an array [ ], got a string", 0);
	expect_error("admins = [ 1, 2 ];\n", 1,
	    "admins[0]: expected a string, got an integer", 0);
	expect_error("prow: { jobs = [ \"e2e\" ]; };\n", 1,
	    "prow.jobs: expected a list ( ), got an array [ ]", 0);
	expect_error("prow: { jobs = ( \"e2e\" ); };\n", 1,
	    "prow.jobs[0]: expected a group { }, got a string", 0);
	expect_error("server: { user = 1000; };\n", 1,
	    "server.user: expected a string, got an integer", 0);
}

static void
test_an_out_of_range_integer_names_the_range(void **state)
{
	expect_error("server: {\n  workers = 0;\n};\n", 2,
	    "server.workers: 0 is out of range (1..256)", 0);
	expect_error("server: { workers = 257; };\n", 1,
	    "server.workers: 257 is out of range (1..256)", 0);
	expect_error("store: { retry: { deadline_ms = 99; }; };\n", 1,
	    "store.retry.deadline_ms: 99 is out of range (100..600000)", 0);
	expect_error("expire: { warn_minutes = -1; };\n", 1,
	    "expire.warn_minutes: -1 is out of range (0..1440)", 0);
	expect_error("expire: { webhook_timeout_ms = 99; };\n", 1,
	    "expire.webhook_timeout_ms: 99 is out of range (100..60000)", 0);
	expect_error("server: { backlog = 5000000000L; };\n", 1,
	    "server.backlog: 5000000000 is out of range (1..65535)", 0);
}

static void
test_an_in_range_int64_is_accepted_as_an_int(void **state)
{
	static struct cfg	c;

	expect_ok(&c, "server: { workers = 16L; };\n");
	assert_int_equal(c.workers, 16);
}

/* libconfig 1.5 would read 4294967300 as 4 and 4294967296 as 0. */
static void
test_an_integer_libconfig_would_truncate_is_refused(void **state)
{
	expect_error("server: {\n  workers = 4294967300;\n};\n", 2,
	    "server.workers: 4294967300 is out of range (1..256)", 0);
	expect_error("# 99999999999 in a comment is fine\n"
	    "server: { user = \"u99999999999\"; workers = 2; "
	    "grace_seconds = 4294967296; };\n", 2,
	    "server.grace_seconds: 4294967296 is out of range (0..3600)", 0);
	expect_error("server: { backlog = 0xFFFFFFFF; };\n", 1,
	    "server.backlog: 0xFFFFFFFF is out of range (1..65535)", 0);
}

static void
test_numbers_in_comments_and_strings_are_not_checked(void **state)
{
	static struct cfg	c;

	expect_ok(&c, "# workers = 99999999999;\n"
	    "/* grace_seconds = 4294967296; */\n"
	    "server: { user = \"u4294967296\"; workers = 7; "
	    "grace_seconds = 0x10; };\n"
	    "prow: { jobs = ( { name = \"e2e-1e99999999999\"; "
	    "type = \"periodic\"; } ); };\n");
	assert_int_equal(c.workers, 7);
	assert_int_equal(c.grace_seconds, 16);
	assert_string_equal(c.user, "u4294967296");
}

static void
test_a_bad_enum_string_lists_the_choices(void **state)
{
	expect_error("store: {\n  backend = \"s3\";\n};\n", 2,
	    "store.backend: must be one of \"file\", \"configmap\"", 0);
	expect_error("server: { log_level = \"verbose\"; };\n", 1,
	    "server.log_level: must be one of \"error\", \"warn\", \"info\", "
	    "\"debug\"", 0);
	expect_error("store: { retry: { policy = \"Seed\"; }; };\n", 1,
	    "store.retry.policy: must be one of \"default\", \"seed\"", 0);
	expect_error("prow: { dialect = \"gerrit\"; };\n", 1,
	    "prow.dialect: must be one of \"gangway\", \"manual-trigger\"", 0);
}

static void
test_hold_hours_above_max_hold_hours_is_refused(void **state)
{
	expect_error("clusters: {\n"
	    "  max_hold_hours = 72;\n"
	    "  hold_hours = 80;\n"
	    "};\n", 3, "clusters.hold_hours: 80 is greater than "
	    "clusters.max_hold_hours (72)", 0);
	/* Only the maximum in the file: it is the one blamed. */
	expect_error("clusters: {\n  max_hold_hours = 4;\n};\n", 2,
	    "clusters.max_hold_hours: 4 is less than clusters.hold_hours (6)",
	    0);
}

static void
test_hold_hours_equal_to_max_hold_hours_is_accepted(void **state)
{
	static struct cfg	c;

	expect_ok(&c, "clusters: { hold_hours = 24; max_hold_hours = 24; };\n");
	assert_int_equal(c.hold_hours, 24);
	assert_int_equal(c.max_hold_hours, 24);
}

static void
test_a_retry_base_above_its_cap_is_refused(void **state)
{
	expect_error("store: { retry: { base_ms = 600; }; };\n", 1,
	    "store.retry.base_ms: 600 is greater than store.retry.cap_ms "
	    "(500)", 0);
}

static void
test_a_relative_store_file_path_is_refused(void **state)
{
	expect_error("store: {\n"
	    "  file: {\n"
	    "    path = \"var/lib/cimaster/clusters.json\";\n"
	    "  };\n"
	    "};\n", 3, "store.file.path: must be an absolute path", 0);
}

static void
test_malformed_strings_are_refused(void **state)
{
	expect_error("server: { user = \"Root\"; };\n", 1,
	    "server.user: must be a user name", 1);
	expect_error("server: { user = \"1abc\"; };\n", 1,
	    "server.user: must be a user name", 1);
	expect_error("server: { user = \"abcdefghijabcdefghijabcdefghijabc\"; "
	    "};\n", 1, "server.user: too long (33 characters, at most 32)", 0);
	expect_error("server: { user = \"\"; };\n", 1,
	    "server.user: must not be empty", 0);
	expect_error("server: { socket_group = \"WWW\"; };\n", 1,
	    "server.socket_group: must be empty or a group name", 1);
	expect_error("server: { socket = \"fcgi.sock\"; };\n", 1,
	    "server.socket: must be an absolute path", 0);
	expect_error("clusters: { default_purpose = \"tess ci\"; };\n", 1,
	    "clusters.default_purpose: must be made of", 1);
	expect_error("store: { configmap: { namespace = \"CI\"; }; };\n", 1,
	    "store.configmap.namespace: must be a DNS-1123 label", 1);
	expect_error("store: { configmap: { name = \"clusters-\"; }; };\n", 1,
	    "store.configmap.name: must be a DNS-1123 label", 1);
	expect_error("prow: { url = \"prow.example.com\"; };\n", 1,
	    "prow.url: must be empty or an http:// or https:// URL", 1);
	expect_error("prow: { token_file = \"token\"; };\n", 1,
	    "prow.token_file: must be empty or an absolute path", 0);
	expect_error("prow: { jobs = ( { name = \"\"; "
	    "type = \"periodic\"; } ); };\n", 1,
	    "prow.jobs[0].name: must not be empty", 0);
}

static void
test_an_admin_name_with_a_space_is_refused(void **state)
{
	expect_error("admins = [ \"alice\",\n  \"bob smith\" ];\n", 2,
	    "admins[1]: must be free of spaces and control characters", 0);
}

static void
test_too_many_admins_are_refused(void **state)
{
	struct buf	b = { 0 };
	int		i;

	assert_int_equal(buf_puts(&b, "admins = [ "), 0);
	for (i = 0; i <= CFG_ADMINS_MAX; i++)
		assert_int_equal(buf_printf(&b, "%s\"u%d\"", i ? ", " : "",
		    i), 0);
	assert_int_equal(buf_puts(&b, " ];\n"), 0);
	expect_error(b.data, 1, "admins: 257 entries, at most 256", 0);
	buf_free(&b);
}

static void
test_a_syntax_error_gives_its_line(void **state)
{
	expect_error("server: {\n"
	    "  workers = 4;\n"
	    "  user = ;\n"
	    "};\n", 3, "syntax error: syntax error", 0);
}

static void
test_a_key_given_twice_is_refused(void **state)
{
	expect_error("server: {\n"
	    "  workers = 4;\n"
	    "  workers = 5;\n"
	    "};\n", 3, "syntax error: duplicate setting name", 0);
}

static void
test_a_failed_load_leaves_the_previous_configuration(void **state)
{
	static struct cfg	c, before;
	struct err		e;
	char			path[sizeof(TMP_TEMPLATE)];

	expect_ok(&c, "server: { workers = 9; };\nadmins = [ \"alice\" ];\n");
	memcpy(&before, &c, sizeof(c));
	assert_int_equal(load_text(&c, "server: { workers = 9; };\n"
	    "admins = [ \"bob\" ];\nbogus = 1;\n", &e, path, sizeof(path)),
	    -1);
	assert_memory_equal(&c, &before, sizeof(c));
}

static void
test_admins_are_matched_exactly(void **state)
{
	static struct cfg	c;

	expect_ok(&c, "admins = [ \"alice\", \"bob\" ];\n");
	assert_int_equal(cfg_is_admin(&c, "alice"), 1);
	assert_int_equal(cfg_is_admin(&c, "bob"), 1);
	assert_int_equal(cfg_is_admin(&c, "Alice"), 0);
	assert_int_equal(cfg_is_admin(&c, "ali"), 0);
	assert_int_equal(cfg_is_admin(&c, "alice2"), 0);
	assert_int_equal(cfg_is_admin(&c, "carol"), 0);
	assert_int_equal(cfg_is_admin(&c, ""), 0);
	assert_int_equal(cfg_is_admin(&c, NULL), 0);
}

static void
test_nobody_is_admin_by_default(void **state)
{
	static struct cfg	c;

	cfg_defaults(&c);
	assert_int_equal(cfg_is_admin(&c, "root"), 0);
	assert_int_equal(cfg_is_admin(&c, "admin"), 0);
}

static void
test_the_configmap_backend_keys_have_defaults_ranges_and_an_order(
    void **state)
{
	static struct cfg	c;

	cfg_defaults(&c);
	assert_int_equal(c.cm_connect_timeout_ms, 2000);
	assert_int_equal(c.cm_timeout_ms, 10000);
	assert_int_equal(c.cm_max_response_bytes, 4194304);
	assert_int_equal(c.cm_token_reread_seconds, 60);
	assert_string_equal(c.lock_file, "/run/cimaster/store.lock");

	expect_ok(&c, "store: {\n"
	    "  lock_file = \"/srv/cimaster/store.lock\";\n"
	    "  configmap: {\n"
	    "    namespace = \"\";\n"
	    "    connect_timeout_ms = 100;\n"
	    "    timeout_ms = 120000;\n"
	    "    max_response_bytes = 16777216;\n"
	    "    token_reread_seconds = 3600;\n"
	    "  };\n"
	    "};\n");
	/* "": the pod's own namespace, read from the service account. */
	assert_string_equal(c.cm_namespace, "");
	assert_string_equal(c.lock_file, "/srv/cimaster/store.lock");
	assert_int_equal(c.cm_connect_timeout_ms, 100);
	assert_int_equal(c.cm_timeout_ms, 120000);
	assert_int_equal(c.cm_max_response_bytes, 16777216);
	assert_int_equal(c.cm_token_reread_seconds, 3600);

	expect_error("store: { configmap: { timeout_ms = 99; }; };\n", 1,
	    "store.configmap.timeout_ms: 99 is out of range (100..120000)", 0);
	expect_error("store: { configmap: { max_response_bytes = 1024; }; };\n",
	    1, "store.configmap.max_response_bytes: 1024 is out of range "
	    "(65536..16777216)", 0);
	expect_error("store: { configmap: { token_reread_seconds = 0; }; };\n",
	    1, "store.configmap.token_reread_seconds: 0 is out of range "
	    "(1..3600)", 0);
	expect_error("store: { configmap: { connect_timeout_ms = 5000; "
	    "timeout_ms = 4000; }; };\n", 1,
	    "store.configmap.connect_timeout_ms: 5000 is greater than "
	    "store.configmap.timeout_ms (4000)", 0);
	expect_error("store: { lock_file = \"store.lock\"; };\n", 1,
	    "store.lock_file: must be an absolute path", 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_the_documented_ones),
		cmocka_unit_test(
		    test_an_empty_file_gives_the_defaults_and_records_its_path),
		cmocka_unit_test(test_a_file_with_every_key_fills_every_field),
		cmocka_unit_test(test_keys_left_out_keep_their_defaults),
		cmocka_unit_test(test_each_log_level_maps_to_enum_log_level),
		cmocka_unit_test(test_a_missing_file_is_named_in_the_error),
		cmocka_unit_test(
		    test_an_unknown_top_level_key_is_refused_with_its_line),
		cmocka_unit_test(
		    test_an_unknown_nested_key_is_refused_with_its_dotted_path),
		cmocka_unit_test(
		    test_an_unknown_key_in_a_prow_job_names_the_job),
		cmocka_unit_test(test_a_prow_job_without_a_type_is_refused),
		cmocka_unit_test(test_a_bad_prow_job_type_lists_the_choices),
		cmocka_unit_test(
		    test_a_postsubmit_or_presubmit_without_refs_is_refused),
		cmocka_unit_test(test_incomplete_or_bad_refs_are_refused),
		cmocka_unit_test(test_a_periodic_job_with_refs_is_refused),
		cmocka_unit_test(
		    test_the_prow_client_keys_have_ranges_and_an_order),
		cmocka_unit_test(
		    test_a_string_where_an_integer_belongs_is_a_type_error),
		cmocka_unit_test(test_other_wrong_types_are_refused),
		cmocka_unit_test(
		    test_an_out_of_range_integer_names_the_range),
		cmocka_unit_test(
		    test_an_in_range_int64_is_accepted_as_an_int),
		cmocka_unit_test(
		    test_an_integer_libconfig_would_truncate_is_refused),
		cmocka_unit_test(
		    test_numbers_in_comments_and_strings_are_not_checked),
		cmocka_unit_test(test_a_bad_enum_string_lists_the_choices),
		cmocka_unit_test(
		    test_hold_hours_above_max_hold_hours_is_refused),
		cmocka_unit_test(
		    test_hold_hours_equal_to_max_hold_hours_is_accepted),
		cmocka_unit_test(test_a_retry_base_above_its_cap_is_refused),
		cmocka_unit_test(test_a_relative_store_file_path_is_refused),
		cmocka_unit_test(test_malformed_strings_are_refused),
		cmocka_unit_test(test_an_admin_name_with_a_space_is_refused),
		cmocka_unit_test(test_too_many_admins_are_refused),
		cmocka_unit_test(test_a_syntax_error_gives_its_line),
		cmocka_unit_test(test_a_key_given_twice_is_refused),
		cmocka_unit_test(
		    test_a_failed_load_leaves_the_previous_configuration),
		cmocka_unit_test(test_admins_are_matched_exactly),
		cmocka_unit_test(test_nobody_is_admin_by_default),
		cmocka_unit_test(
		    test_the_configmap_backend_keys_have_defaults_ranges_and_an_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
