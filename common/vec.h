/*
 * Two small containers used by every model: an ordered list of owned strings
 * and an ordered list of owned key/value pairs (YAML maps, env, labels keep
 * their order, which Kamal's outputs depend on).
 */
#ifndef KR_COMMON_VEC_H
#define KR_COMMON_VEC_H

#include <stdbool.h>
#include <stddef.h>

struct kr_strvec {
	char **v;
	size_t n;
	size_t alloc;
};

struct kr_kv {
	char *key;
	char *value;
};

struct kr_kvlist {
	struct kr_kv *v;
	size_t n;
	size_t alloc;
};

void kr_strvec_push(struct kr_strvec *sv, const char *s);
/* Push without copying: the vector takes ownership of s. */
void kr_strvec_push_owned(struct kr_strvec *sv, char *s);
bool kr_strvec_contains(const struct kr_strvec *sv, const char *s);
void kr_strvec_copy(struct kr_strvec *dst, const struct kr_strvec *src);
void kr_strvec_release(struct kr_strvec *sv);

/* Set key to value: replaces an existing key in place, else appends. */
void kr_kvlist_set(struct kr_kvlist *kv, const char *key, const char *value);
/* Append without looking for an existing key. */
void kr_kvlist_append(struct kr_kvlist *kv, const char *key, const char *value);
/* The value for key, or NULL. */
const char *kr_kvlist_get(const struct kr_kvlist *kv, const char *key);
bool kr_kvlist_del(struct kr_kvlist *kv, const char *key);
void kr_kvlist_copy(struct kr_kvlist *dst, const struct kr_kvlist *src);
/* Release, overwriting values with zeros first (they may be secrets). */
void kr_kvlist_release(struct kr_kvlist *kv);

/* Overwrite a string's bytes with zeros and free it; accepts NULL. */
void kr_free_secret(char *s);

#endif
