/*
 * Bounded reads of local input files (file.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"

const char *
kr_file_kind(unsigned mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO (named pipe)";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

int
kr_file_read(char **out, size_t *len, const char *path, size_t max)
{
	struct kr_buf b = KR_BUF_INIT;
	struct stat st;
	char chunk[8192];
	ssize_t n;
	int fd, e, err = 0;

	/* O_NONBLOCK: opening a FIFO with no writer must not wait */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		e = errno;
		if (e == ENOENT || e == ENOTDIR) {
			kr_error_set(KR_ENOTFOUND, "no such file");
			return KR_ENOTFOUND;
		}
		kr_error_set(KR_EIO, "cannot open: %s", strerror(e));
		return KR_EIO;
	}
	if (fstat(fd, &st) < 0) {
		e = errno;
		close(fd);
		kr_error_set(KR_EIO, "cannot stat: %s", strerror(e));
		return KR_EIO;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		kr_error_set(KR_EINVAL, "is %s, not a regular file",
			kr_file_kind(st.st_mode));
		return KR_EINVAL;
	}
	if ((size_t)st.st_size > max)
		goto too_big;
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			kr_error_set(KR_EIO, "cannot read: %s", strerror(e));
			err = KR_EIO;
			goto out;
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > max)
			goto too_big;
		kr_buf_put(&b, chunk, (size_t)n);
	}
	close(fd);
	memset(chunk, 0, sizeof(chunk));
	*out = kr_buf_detach(&b, len);
	return 0;
too_big:
	kr_error_set(KR_EINVAL, "is larger than %zu bytes (the limit)", max);
	err = KR_EINVAL;
out:
	close(fd);
	memset(chunk, 0, sizeof(chunk));
	kr_buf_release(&b);
	return err;
}
