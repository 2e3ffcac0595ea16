// SPDX-License-Identifier: MIT
/*
 * libafork at its limits, on every backend: RLIMIT_NPROC reached (EAGAIN),
 * no memory for a stack (RLIMIT_AS: ENOMEM), the pool's own limit
 * (EAGAIN).  Each fills up with children blocked on a futex until afork
 * fails, checks the errno, then fails 20 more times through every API and
 * checks after each failure that nothing moved (fds, mappings, the pool's
 * counters), lets the children go, reaps them and checks that the fds,
 * mappings, zombies and the pool are back to their starting counts.
 *
 * A call that blocks instead of failing is a failure too: a watchdog lets
 * the children go if no call returns for STRESS_TIMEOUT_MS.
 */
#include <grp.h>
#include <sys/prctl.h>

#include "stress_util.h"

#define MAX_KIDS 256

struct blocker {
	uint32_t go;
	struct afork_child *kids[MAX_KIDS];
	pid_t pids[MAX_KIDS];
	int n;
	/* the watchdog */
	uint32_t progress, stop;
	int stuck;
	pthread_t wd;
};

static int child_block(void *p)
{
	uint32_t *go = p;

	while (!__atomic_load_n(go, __ATOMIC_ACQUIRE))
		afork_child_syscall(SYS_futex, (long)go, FUTEX_WAIT, 0, 0, 0, 0);
	return 3;
}

static void let_go(struct blocker *b)
{
	__atomic_store_n(&b->go, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &b->go, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static void *watchdog(void *p)
{
	struct blocker *b = p;
	struct timespec ts = { 20, 0 };	/* a call takes ms, even under TCG */
	uint32_t seen;

	while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
		seen = __atomic_load_n(&b->progress, __ATOMIC_ACQUIRE);
		if (syscall(SYS_futex, &b->stop, FUTEX_WAIT, 0, &ts, NULL, 0) == 0 ||
		    errno != ETIMEDOUT)
			continue;
		if (seen == __atomic_load_n(&b->progress, __ATOMIC_ACQUIRE) &&
		    !__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
			b->stuck = 1;
			let_go(b);
		}
	}
	return NULL;
}

static void watch(struct blocker *b)
{
	pthread_attr_t a;

	memset(b, 0, sizeof(*b));
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, STRESS_THREAD_STACK);
	pthread_create(&b->wd, &a, watchdog, b);
	pthread_attr_destroy(&a);
}

static void unwatch(struct blocker *b)
{
	__atomic_store_n(&b->stop, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &b->stop, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	pthread_join(b->wd, NULL);
}

/* One afork through API @api (0-3) of a blocked child; 0 or -1 and errno. */
static int try_one(struct blocker *b, int api)
{
	struct afork_child *c = NULL;
	struct afork_opts o;
	pid_t pid;
	int r;

	__atomic_add_fetch(&b->progress, 1, __ATOMIC_RELEASE);
	switch (api) {
	case 0:
		pid = afork(child_block, &b->go);
		break;
	case 1:
		pid = aforkx(stress_flags(AFORK_WAITPID), child_block, &b->go);
		break;
	default:
		afork_opts_init(&o);
		o.options = api == 2 ? AFORK_OPT_PIDFD | AFORK_OPT_RELEASE_FD : 0;
		r = afork_start(&c, &o, child_block, &b->go);
		pid = r ? -1 : afork_pid(c);
		break;
	}
	__atomic_add_fetch(&b->progress, 1, __ATOMIC_RELEASE);
	if (pid < 0)
		return -1;
	b->kids[b->n] = c;
	b->pids[b->n++] = pid;
	return 0;
}

static int reap_all(struct blocker *b)
{
	int i, st, bad = 0;

	let_go(b);
	for (i = 0; i < b->n; i++) {
		if (exit_bounded(b->pids[i]))
			bad++;
		if (b->kids[i]) {
			if (afork_wait(b->kids[i], &st, 0) != b->pids[i])
				bad++;
			afork_free(b->kids[i]);
		} else if (waitpid(b->pids[i], &st, __WALL) != b->pids[i]) {
			bad++;
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 3)
			bad++;
	}
	b->n = 0;
	return bad;
}

/* The counters a failed call must leave alone. */
static int same(const struct snapshot *a, const struct snapshot *b)
{
	return a->fds == b->fds && (STRESS_ASAN || a->maps_other == b->maps_other) &&
	       a->pool_maps == b->pool_maps &&
	       a->pool.stacks_total == b->pool.stacks_total &&
	       a->pool.stacks_busy == b->pool.stacks_busy &&
	       a->pool.bytes_mapped == b->pool.bytes_mapped;
}

/*
 * Fill up until afork fails; returns the errno.  Then 20 more failures,
 * each leaving the snapshot as it was.  @lift/@lower bracket the snapshot
 * (taking it may need the resource that ran out).
 */
static int fill_and_fail(struct __test_metadata *_metadata, struct blocker *b,
			 void (*lift)(void), void (*lower)(void), int *leaks)
{
	static struct snapshot s0, s1;
	int err = 0, i;

	while (b->n < MAX_KIDS) {
		if (try_one(b, b->n % 4)) {
			err = errno;
			break;
		}
	}
	*leaks = 0;
	if (!err)
		return 0;
	if (lift)
		lift();
	snapshot_take(&s0);
	if (lower)
		lower();
	for (i = 0; i < 20; i++) {
		if (try_one(b, i % 4) == 0) {
			TH_LOG("afork succeeded again after failing with %s",
			       strerror(err));
			continue;
		}
		if (errno != err)
			TH_LOG("failure %d: %s, first was %s", i, strerror(errno),
			       strerror(err));
		if (lift)
			lift();
		snapshot_take(&s1);
		if (lower)
			lower();
		if (!same(&s0, &s1) && (*leaks)++ < 3)
			TH_LOG("after failure %d: fds %d->%d, maps %d->%d, stacks %lu->%lu",
			       i, s0.fds, s1.fds, s0.maps_other, s1.maps_other,
			       s0.pool.stacks_total, s1.pool.stacks_total);
	}
	return err;
}

/* Tasks of user @uid, threads included (what RLIMIT_NPROC counts). */
static int tasks_of(uid_t uid)
{
	DIR *d = opendir("/proc"), *t;
	struct dirent *e, *te;
	char path[600], line[256];
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task", e->d_name);
		t = opendir(path);
		if (!t)
			continue;
		while ((te = readdir(t))) {
			FILE *f;
			unsigned int ruid;

			if (te->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/task/%s/status",
				 e->d_name, te->d_name);
			f = fopen(path, "re");
			if (!f)
				continue;
			while (fgets(line, sizeof(line), f))
				if (sscanf(line, "Uid: %u", &ruid) == 1 && ruid == uid)
					n++;
			fclose(f);
		}
		closedir(t);
	}
	closedir(d);
	return n;
}

/* RLIMIT_NPROC reached: EAGAIN, nothing leaks, no call blocks. */
TEST_F_TIMEOUT(backend, rlimit_nproc, 600)
{
	const uid_t nobody = 65534;
	static struct snapshot base;
	struct blocker b;
	struct rlimit rl;
	int err, leaks, n;

	if (getuid() == 0) {
		/* Root ignores RLIMIT_NPROC: become nobody, capabilities go. */
		ASSERT_EQ(0, setgroups(0, NULL));
		ASSERT_EQ(0, setresgid(nobody, nobody, nobody));
		ASSERT_EQ(0, setresuid(nobody, nobody, nobody));
		/* The id change made us undumpable: /proc/self would be root's. */
		ASSERT_EQ(0, prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
	}
	/* Warm up (and start the vfork backend's first worker). */
	watch(&b);
	ASSERT_EQ(0, try_one(&b, 2));
	ASSERT_EQ(0, reap_all(&b));
	unwatch(&b);
	TAKE_BASELINE(base);

	watch(&b);
	n = tasks_of(getuid());
	ASSERT_GT(n, 0);
	rl.rlim_cur = rl.rlim_max = (rlim_t)n + 12;
	ASSERT_EQ(0, setrlimit(RLIMIT_NPROC, &rl));

	err = fill_and_fail(_metadata, &b, NULL, NULL, &leaks);
	EXPECT_FALSE(b.stuck) TH_LOG("afork blocked instead of failing (%d children)", b.n);
	EXPECT_EQ(EAGAIN, err) TH_LOG("got %s after %d children", strerror(err), b.n);
	EXPECT_EQ(0, leaks);
	TH_LOG("RLIMIT_NPROC %d: %d children, then EAGAIN", n + 12, b.n);
	EXPECT_EQ(0, reap_all(&b));
	unwatch(&b);
	EXPECT_NO_LEAK(base);
}

static struct rlimit as_saved;
static rlim_t as_low;

static void as_lift(void)
{
	setrlimit(RLIMIT_AS, &as_saved);
}

static void as_lower(void)
{
	struct rlimit rl = { as_low, as_saved.rlim_max };

	setrlimit(RLIMIT_AS, &rl);
}

/* No memory for a stack (RLIMIT_AS): ENOMEM, nothing leaks. */
TEST_F_TIMEOUT(backend, no_memory_for_stack, 600)
{
	static struct snapshot base;
	struct blocker b;
	int err, leaks;

	if (STRESS_ASAN)
		SKIP(return, "RLIMIT_AS and AddressSanitizer's shadow do not mix");
	watch(&b);
	ASSERT_EQ(0, try_one(&b, 2));
	ASSERT_EQ(0, reap_all(&b));
	unwatch(&b);
	TAKE_BASELINE(base);

	watch(&b);
	ASSERT_EQ(0, getrlimit(RLIMIT_AS, &as_saved));
	/* Room for a few stacks (64 KiB + guard + record) and the workers. */
	as_low = vm_size() + 2 * 1024 * 1024;
	as_lower();
	err = fill_and_fail(_metadata, &b, as_lift, as_lower, &leaks);
	as_lift();
	EXPECT_FALSE(b.stuck) TH_LOG("afork blocked instead of failing (%d children)", b.n);
	/* The vfork backend may fail to start a worker thread first: EAGAIN. */
	if (self->id == AFORK_BACKEND_VFORK && err == EAGAIN)
		TH_LOG("vfork backend: EAGAIN (no worker thread) before ENOMEM");
	else
		EXPECT_EQ(ENOMEM, err) TH_LOG("got %s after %d children",
					      strerror(err), b.n);
	EXPECT_GT(b.n, 0);
	EXPECT_EQ(0, leaks);
	TH_LOG("RLIMIT_AS: %d children, then %s", b.n, strerror(err));
	EXPECT_EQ(0, reap_all(&b));
	unwatch(&b);
	EXPECT_NO_LEAK(base);
}

/* The pool's own limit: EAGAIN, nothing leaks, the limit comes back. */
TEST_F_TIMEOUT(backend, pool_limit, 600)
{
	static struct snapshot base;
	struct blocker b;
	int err, leaks;

	watch(&b);
	ASSERT_EQ(0, try_one(&b, 2));
	ASSERT_EQ(0, reap_all(&b));
	unwatch(&b);
	TAKE_BASELINE(base);

	watch(&b);
	ASSERT_EQ(0, afork_pool_set_limits(20, 0));
	err = fill_and_fail(_metadata, &b, NULL, NULL, &leaks);
	EXPECT_FALSE(b.stuck);
	EXPECT_EQ(EAGAIN, err);
	EXPECT_EQ(20, b.n);
	EXPECT_EQ(0, leaks);
	EXPECT_EQ(0, reap_all(&b));
	unwatch(&b);
	ASSERT_EQ(0, afork_pool_set_limits(1024, 16));
	EXPECT_NO_LEAK(base);
}

STRESS_MAIN
