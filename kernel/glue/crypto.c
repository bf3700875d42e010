// SPDX-License-Identifier: GPL-2.0
/* Checksums and cryptography for the C++ engine: the kernel's own code only. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/crc32c.h>
#include <linux/err.h>
#include <crypto/hash.h>
#include <crypto/sha2.h>

#include "mars_glue.h"

/* Linux's crc32c() neither pre- nor post-inverts; the engine's CRC does both. */
unsigned int mars_glue_crc32c(unsigned int crc, const void *data,
			      __SIZE_TYPE__ size)
{
	while (size > 0) {
		unsigned int chunk = size > 0x40000000 ? 0x40000000 : size;

		crc = ~crc32c(~crc, data, chunk);
		data += chunk;
		size -= chunk;
	}
	return crc;
}

void mars_glue_sha256(const void *data, __SIZE_TYPE__ size, unsigned char *out)
{
	struct sha256_state state;

	sha256_init(&state);
	while (size > 0) {
		unsigned int chunk = size > 0x40000000 ? 0x40000000 : size;

		sha256_update(&state, data, chunk);
		data += chunk;
		size -= chunk;
	}
	sha256_final(&state, out);
}

/* Context: may sleep (allocates the transform). */
int mars_glue_hmac_sha256(const void *key, __SIZE_TYPE__ key_size,
			  const void *data, __SIZE_TYPE__ size,
			  unsigned char *out)
{
	struct crypto_shash *tfm;
	int ret;

	if (key_size > UINT_MAX || size > UINT_MAX)
		return MARS_STATUS_UNAVAILABLE;
	tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(tfm)) {
		pr_err_ratelimited("hmac(sha256) unavailable: %ld\n", PTR_ERR(tfm));
		return PTR_ERR(tfm) == -ENOMEM ? MARS_STATUS_NO_MEMORY :
						 MARS_STATUS_UNAVAILABLE;
	}
	ret = crypto_shash_setkey(tfm, key, key_size);
	if (!ret)
		ret = crypto_shash_tfm_digest(tfm, data, size, out);
	crypto_free_shash(tfm);
	if (ret == -ENOMEM)
		return MARS_STATUS_NO_MEMORY;
	return ret ? MARS_STATUS_UNAVAILABLE : MARS_STATUS_OK;
}
