/* SHA-256 as lowercase hex, for content hashes (env files, definitions). */
#ifndef KR_COMMON_HASH_H
#define KR_COMMON_HASH_H

#include <stddef.h>

#define KR_SHA256_HEX 65	/* 64 hex digits and a NUL */

void kr_sha256_hex(char out[KR_SHA256_HEX], const void *data, size_t len);

/* Incremental form. */
struct kr_sha256 {
	void *ctx;
};
void kr_sha256_init(struct kr_sha256 *h);
void kr_sha256_update(struct kr_sha256 *h, const void *data, size_t len);
/* Feed a string plus its terminating NUL, so fields cannot run together. */
void kr_sha256_field(struct kr_sha256 *h, const char *s);
void kr_sha256_final(struct kr_sha256 *h, char out[KR_SHA256_HEX]);

#endif
