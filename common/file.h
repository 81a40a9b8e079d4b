/*
 * Reading a local input file whole, bounded: only a regular file is read
 * (a FIFO is never opened for reading, so it cannot hang the run; a
 * device such as /dev/zero cannot fill memory), and never more than a cap.
 */
#ifndef KR_COMMON_FILE_H
#define KR_COMMON_FILE_H

#include <stddef.h>

/* Caps of the inputs kreconcile reads (bytes). */
#define KR_FILE_MAX_CONFIG ((size_t)8 << 20) /* deploy*.yml */
#define KR_FILE_MAX_ACCESSORY ((size_t)16 << 20) /* an accessory's file */

/*
 * The regular file at path, whole, into *out (NUL-terminated; *len bytes,
 * len may be NULL); caller frees. 0; KR_ENOTFOUND when it does not exist;
 * KR_EINVAL when it is not a regular file (the message says what it is) or
 * larger than max; KR_EIO when it cannot be read (the message says why).
 * The message never names the path: the caller does.
 */
int kr_file_read(char **out, size_t *len, const char *path, size_t max);

/* What the file type of mode is, in words ("a FIFO", "a directory"...). */
const char *kr_file_kind(unsigned mode);

#endif
