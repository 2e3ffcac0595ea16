// SPDX-License-Identifier: MIT
/*
 * Print the host's TSC frequency in kHz, for the guest's tsc_early_khz=.
 *
 * Under TCG the guest's RDTSC reads the host's TSC, but the guest kernel
 * has no ACPI (so no HPET or PM timer) to calibrate it against, and its PIT
 * calibration fails more often than not under emulation; it then falls
 * back to the jiffies clocksource, whose 4 ms steps make any timing in the
 * guest meaningless.  Telling it the frequency measured here fixes that.
 *
 * Prints nothing and exits 1 when the host's TSC is not usable as a clock
 * (no constant_tsc / nonstop_tsc) or the measurements disagree.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

static int host_tsc_is_constant(void)
{
	char line[8192];
	int ok = 0;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		ok = strstr(line, " constant_tsc") && strstr(line, " nonstop_tsc");
		break;
	}
	fclose(f);
	return ok;
}

static uint64_t ns_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One measurement over about 50 ms. */
static uint64_t measure_khz(void)
{
	struct timespec nap = { 0, 50 * 1000 * 1000 };
	uint64_t t0, t1, c0, c1;

	t0 = ns_now();
	c0 = __rdtsc();
	nanosleep(&nap, NULL);
	t1 = ns_now();
	c1 = __rdtsc();
	return (c1 - c0) * 1000000u / (t1 - t0);
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	uint64_t k[5];
	int i;

	if (!host_tsc_is_constant())
		return 1;
	for (i = 0; i < 5; i++)
		k[i] = measure_khz();
	qsort(k, 5, sizeof(k[0]), cmp);
	/* The middle three must agree within 0.1 %, or the TSC is no clock. */
	if (k[1] == 0 || (k[3] - k[1]) * 1000 > k[2])
		return 1;
	printf("%llu\n", (unsigned long long)k[2]);
	return 0;
}
