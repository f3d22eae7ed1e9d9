/*
 * log: formats one line per call on stderr, which systemd hands to the
 * journal.  Lines are written with a single write(2) so that lines of
 * concurrent workers do not interleave.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"

static const char	*log_prog = "cimaster";
static enum log_level	 log_max = LOG_LEVEL_INFO;

static const char *const log_names[LOG_LEVEL__MAX] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void
log_init(const char *progname, enum log_level max)
{
	log_prog = progname;
	log_max = max;
}

static void	log_vwrite(enum log_level, const char *, const char *,
		    const char *, va_list) __attribute__((format(printf, 4, 0)));

static void
log_vwrite(enum log_level lvl, const char *func, const char *reqid,
    const char *fmt, va_list ap)
{
	char	line[2048];
	int	n, m;

	n = snprintf(line, sizeof(line), "%s[%ld]: %s %s: ", log_prog,
	    (long)getpid(), log_names[lvl], func);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	if (reqid != NULL && reqid[0] != '\0') {
		m = snprintf(line + n, sizeof(line) - n, "[%s] ", reqid);
		if (m < 0 || (size_t)m >= sizeof(line) - n)
			return;
		n += m;
	}
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;	/* truncated: still one line */
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

void
log_msg(enum log_level lvl, const char *func, const char *reqid,
    const char *fmt, ...)
{
	va_list	ap;

	if (lvl > log_max)
		return;
	va_start(ap, fmt);
	log_vwrite(lvl, func, reqid, fmt, ap);
	va_end(ap);
}

void
log_fatal(const char *func, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, func, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
