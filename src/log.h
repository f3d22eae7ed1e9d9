/*
 * log: the one logging module.  Lines go to stderr (the journal under
 * systemd) as "cimaster[pid]: LEVEL func: [request-id] message".  Never
 * pass secrets (tokens, passwords, Authorization headers) to it.
 */
#ifndef CIMASTER_LOG_H
#define CIMASTER_LOG_H

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL__MAX
};

/* Sets the program name and the most verbose level printed. */
void	log_init(const char *progname, enum log_level max);
void	log_msg(enum log_level lvl, const char *func, const char *reqid,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Start-up failure: logs and exits 1.  Only before workers start. */
void	log_fatal(const char *func, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

#define log_error(id, ...)	log_msg(LOG_LEVEL_ERROR, __func__, (id), __VA_ARGS__)
#define log_warn(id, ...)	log_msg(LOG_LEVEL_WARN, __func__, (id), __VA_ARGS__)
#define log_info(id, ...)	log_msg(LOG_LEVEL_INFO, __func__, (id), __VA_ARGS__)
#define log_debug(id, ...)	log_msg(LOG_LEVEL_DEBUG, __func__, (id), __VA_ARGS__)
#define fatal(...)		log_fatal(__func__, __VA_ARGS__)

#endif
