/* SHA-256 through libcrypto's EVP interface (see hash.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/error.h"
#include "common/hash.h"

static void
to_hex(char out[KR_SHA256_HEX], const unsigned char *md, unsigned int n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned int i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * n] = '\0';
}

void
kr_sha256_init(struct kr_sha256 *h)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		fprintf(stderr, "kreconcile: libcrypto cannot start SHA-256\n");
		abort();
	}
	h->ctx = ctx;
}

void
kr_sha256_update(struct kr_sha256 *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

void
kr_sha256_field(struct kr_sha256 *h, const char *s)
{
	if (!s)
		s = "";
	kr_sha256_update(h, s, strlen(s) + 1);
}

void
kr_sha256_final(struct kr_sha256 *h, char out[KR_SHA256_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_DigestFinal_ex(h->ctx, md, &n);
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
	to_hex(out, md, n);
}

void
kr_sha256_hex(char out[KR_SHA256_HEX], const void *data, size_t len)
{
	struct kr_sha256 h;

	kr_sha256_init(&h);
	kr_sha256_update(&h, data, len);
	kr_sha256_final(&h, out);
}
