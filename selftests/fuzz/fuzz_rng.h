/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small deterministic PRNG (xoshiro256**, seeded by splitmix64) for the
 * fuzzers: one stream per iteration, derived from (seed, iteration), so a
 * single iteration can be replayed without running the ones before it.
 */
#ifndef FUZZ_RNG_H
#define FUZZ_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

static inline uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void rng_init(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return res;
}

/* Uniform in [0, n), n > 0 (the modulo bias does not matter here). */
static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
	return rng_next(r) % n;
}

/* True with probability pct/100. */
static inline int rng_pct(struct rng *r, unsigned int pct)
{
	return rng_below(r, 100) < pct;
}

/* Roughly log-uniform in [1, max]: small values as likely as big ones. */
static inline uint64_t rng_log(struct rng *r, uint64_t max)
{
	unsigned int bits = 64 - (unsigned int)__builtin_clzll(max | 1);
	uint64_t v = rng_next(r) >> (64 - 1 - rng_below(r, bits));

	v = v % max + 1;
	return v;
}

#endif /* FUZZ_RNG_H */
