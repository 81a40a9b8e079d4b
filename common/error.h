/*
 * Error codes and the per-thread "last error" message, after libgit2's
 * git_error_set/git_error_last: a failing function returns a negative KR_E*
 * code and sets the message once; the CLI prints it.
 */
#ifndef KR_COMMON_ERROR_H
#define KR_COMMON_ERROR_H

enum kr_error_code {
	KR_OK = 0,
	KR_ERROR = -1, /* generic failure */
	KR_ENOMEM = -2,
	KR_EINVAL = -3, /* bad input (config, arguments, data) */
	KR_EIO = -4, /* local file or process I/O */
	KR_ENOTFOUND = -5,
	KR_ECONFIG = -6, /* configuration invalid; diagnostics hold details */
	KR_ESSH = -7, /* transport failure (connect, auth, channel) */
	KR_EHOSTKEY = -8, /* host key unknown or changed */
	KR_ETIMEOUT = -9,
	KR_EDOCKER = -10, /* docker missing or refused on a host */
	KR_EREGISTRY = -11,
	KR_ESTORE = -12, /* state database */
	KR_ELOCKED = -13, /* deploy lock or database lock held by another */
	KR_EPARSE = -14, /* unparseable data from a host or file */
	KR_ECANCELED = -15, /* the run was cancelled (Ctrl-C, SIGTERM, a watcher
			       stopping) */
};

/* Set the calling thread's last error; printf-style, no trailing newline. */
void kr_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The calling thread's last error message, "" if none. Never NULL. */
const char *kr_error_last(void);
/* The code given to the last kr_error_set, KR_OK if none. */
int kr_error_last_code(void);
void kr_error_clear(void);

/* Abort with a message on allocation failure; kr_xmalloc never returns NULL. */
void *kr_xmalloc(size_t n);
void *kr_xcalloc(size_t n, size_t size);
void *kr_xrealloc(void *p, size_t n);
char *kr_xstrdup(const char *s);
char *kr_xstrndup(const char *s, size_t n);
/* kr_xstrdup of a printf result. */
char *kr_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
