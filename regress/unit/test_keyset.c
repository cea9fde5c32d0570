/*
 * dcs/keyset.c against a plain array model: random puts and deletes,
 * with few distinct hashes so that runs collide and wrap.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "dcs/keyset.h"

#define KEYS	300

static size_t
above(const int64_t *model, int64_t rev)
{
	size_t	 i, n = 0;

	for (i = 0; i < KEYS; i++)
		n += model[i] > rev;
	return n;
}

int
main(void)
{
	struct keyset	 ks = { 0 };
	int64_t		 model[KEYS] = { 0 };
	uint64_t	 hash[KEYS];
	size_t		 i, n, step;
	uint32_t	 x = 12345;

	for (i = 0; i < KEYS; i++)	/* low bits clash on purpose */
		hash[i] = (i % 7 == 0) ? (uint64_t)i << 40 : keyset_hash(
		    (const char *)&i, sizeof(i));
	CHECK(keyset_rev(&ks, 1) == 0);
	keyset_del(&ks, 1);
	for (step = 0; step < 200000; step++) {
		x = x * 1103515245 + 12345;
		i = (x >> 8) % KEYS;
		if ((x >> 4) & 1) {
			CHECK(keyset_put(&ks, hash[i], (int64_t)step + 1) == 0);
			model[i] = (int64_t)step + 1;
		} else {
			keyset_del(&ks, hash[i]);
			model[i] = 0;
		}
		if (step % 997 != 0)
			continue;
		for (i = 0, n = 0; i < KEYS; i++) {
			CHECK(keyset_rev(&ks, hash[i]) == model[i],
			    "step %zu key %zu", step, i);
			n += model[i] != 0;
		}
		CHECK(ks.n == n);
		CHECK(keyset_count_above(&ks, (int64_t)step / 2) ==
		    above(model, (int64_t)step / 2));
	}
	keyset_clear(&ks);
	CHECK(ks.n == 0 && keyset_rev(&ks, hash[3]) == 0);
	keyset_free(&ks);
	CHECK(keyset_hash("a", 1) != keyset_hash("b", 1));
	if (check_failures > 0) {
		printf("test_keyset: %d of %d checks failed\n", check_failures,
		    check_count);
		return 1;
	}
	printf("test_keyset: ok (%d checks)\n", check_count);
	return 0;
}
