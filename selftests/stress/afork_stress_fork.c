// SPDX-License-Identifier: MIT
/*
 * fork() in another thread while afork runs, on every backend.
 *
 * Four threads afork children with random flags and options (release fd,
 * pidfd) that exit or exec the helper, and wait for each release on the
 * release fd when they have one, then reap.  Meanwhile another thread
 * fork()s: each fork child checks that it can afork itself (the library's
 * locks and lists were reset for it), then stays alive until the end of
 * the test, holding every fd it inherited.  If a fork ever copied the
 * write end of a clone backend's release pipe (the window pthread_atfork
 * must keep it out of), that release would not fire until the end: the
 * release waits are bounded, so this fails instead of hanging.  Then the
 * fork children are let go and reaped (each must report success), and
 * fds, mappings, zombies and the pool are back to their starting counts.
 */
#include "stress_util.h"

#define AFORKERS 4
#define MAX_FORKS 1000

struct afork_thread {
	pthread_t th;
	unsigned long n, done, failures;
	struct rng rng;
	char why[200];
};

struct fork_thread {
	pthread_t th;
	int hold_rd, hold_wr;
	unsigned long max;
	pid_t pids[MAX_FORKS];
	unsigned long n;
	volatile int stop;
};

/* Bumped by every afork: the fork thread forks at most once per bump. */
static uint32_t tick;

static int child_exit(void *p)
{
	return (int)(long)p;
}

static int child_exec(void *p)
{
	afork_child_execve(stress_self, stress_helper_argv[(long)p & 7],
			   stress_empty_env);
	return 100;
}

static void *afork_loop(void *p)
{
	struct afork_thread *t = p;

	for (t->done = 0; t->done < t->n && !t->failures; t->done++) {
		struct afork_child *c;
		struct afork_opts o;
		struct pollfd pfd;
		long code = (long)rng_below(&t->rng, 8);
		int ex = rng_pct(&t->rng, 20), st, r;

		afork_opts_init(&o);
		o.flags = stress_flags((int)rng_below(&t->rng, 4));
		o.options = (unsigned int)rng_below(&t->rng, 4);
		if (afork_start(&c, &o, ex ? child_exec : child_exit, (void *)code)) {
			snprintf(t->why, sizeof(t->why), "afork_start: %s", strerror(errno));
			t->failures++;
			break;
		}
		__atomic_add_fetch(&tick, 1, __ATOMIC_RELEASE);
		syscall(SYS_futex, &tick, FUTEX_WAKE, 1, NULL, NULL, 0);
		if (afork_release_pollfd(c, &pfd) == 0) {
			r = poll_revents(pfd.fd, pfd.events, STRESS_TIMEOUT_MS / 4);
			if (!(r & (pfd.events | POLLHUP))) {
				snprintf(t->why, sizeof(t->why),
					 "release fd of %d silent for %d ms (revents %d): "
					 "a fork child holds it?", afork_pid(c),
					 STRESS_TIMEOUT_MS / 4, r);
				t->failures++;
			}
		}
		if (exit_bounded(afork_pid(c))) {
			snprintf(t->why, sizeof(t->why), "child %d stuck", afork_pid(c));
			t->failures++;
		}
		r = afork_wait(c, &st, 0);
		if (r != afork_pid(c) || !WIFEXITED(st) || WEXITSTATUS(st) != code) {
			snprintf(t->why, sizeof(t->why), "child %d: wait %d status %#x, want %ld",
				 afork_pid(c), r, st, code);
			t->failures++;
		}
		afork_free(c);
	}
	return NULL;
}

/* In a fork child: afork works, then wait for the end of the test. */
static void fork_child(struct fork_thread *f)
{
	int st, bad = 0;
	char c;
	pid_t pid;

	close(f->hold_wr);
	pid = afork(child_exit, (void *)9L);
	if (pid < 0 || waitpid(pid, &st, __WALL) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 9)
		bad = 1;
	while (read(f->hold_rd, &c, 1) < 0 && errno == EINTR)
		;
	_exit(bad);
}

static void *fork_loop(void *p)
{
	struct fork_thread *f = p;

	uint32_t seen = __atomic_load_n(&tick, __ATOMIC_ACQUIRE);
	struct timespec ts = { 1, 0 };

	while (!f->stop && f->n < f->max) {
		pid_t pid;

		/* Fork while the afork threads are busy, spread over the run. */
		if (__atomic_load_n(&tick, __ATOMIC_ACQUIRE) == seen) {
			syscall(SYS_futex, &tick, FUTEX_WAIT, seen, &ts, NULL, 0);
			continue;
		}
		seen = __atomic_load_n(&tick, __ATOMIC_ACQUIRE);
		pid = fork();

		if (pid == 0)
			fork_child(f);
		if (pid > 0)
			f->pids[f->n++] = pid;
	}
	return NULL;
}

/* fork() in another thread during afork: no deadlock, no held release fd. */
TEST_F_TIMEOUT(backend, fork_during_afork, 600)
{
	unsigned long n = env_u64("AFORK_STRESS_N", 40) / 2, i, total = 0;
	struct afork_thread at[AFORKERS];
	static struct fork_thread ft;
	static struct snapshot base;
	pthread_attr_t a;
	int hold[2], st, bad = 0;

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, STRESS_THREAD_STACK);
	/* Warm up: the threads' stacks, the vfork workers. */
	for (i = 0; i < AFORKERS; i++) {
		memset(&at[i], 0, sizeof(at[i]));
		at[i].n = 10;
		rng_init(&at[i].rng, stress_seed(), i);
		ASSERT_EQ(0, pthread_create(&at[i].th, &a, afork_loop, &at[i]));
	}
	for (i = 0; i < AFORKERS; i++) {
		pthread_join(at[i].th, NULL);
		ASSERT_EQ(0ul, at[i].failures) TH_LOG("%s", at[i].why);
	}
	TAKE_BASELINE(base);

	ASSERT_EQ(0, pipe2(hold, O_CLOEXEC));
	memset(&ft, 0, sizeof(ft));
	ft.hold_rd = hold[0];
	ft.hold_wr = hold[1];
	ft.max = n / 2 + 20 < MAX_FORKS ? n / 2 + 20 : MAX_FORKS;
	for (i = 0; i < AFORKERS; i++) {
		memset(&at[i], 0, sizeof(at[i]));
		at[i].n = n;
		rng_init(&at[i].rng, stress_seed(), 100 + i);
		ASSERT_EQ(0, pthread_create(&at[i].th, &a, afork_loop, &at[i]));
	}
	ASSERT_EQ(0, pthread_create(&ft.th, &a, fork_loop, &ft));
	for (i = 0; i < AFORKERS; i++) {
		pthread_join(at[i].th, NULL);
		total += at[i].done;
		EXPECT_EQ(0ul, at[i].failures) TH_LOG("thread %lu: %s", i, at[i].why);
	}
	ft.stop = 1;
	pthread_join(ft.th, NULL);
	pthread_attr_destroy(&a);

	/* Let the fork children go: each must have aforked fine. */
	close(hold[1]);
	for (i = 0; i < ft.n; i++) {
		pid_t r = reap_bounded(ft.pids[i], &st);

		if (r != ft.pids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			if (bad++ < 5)
				TH_LOG("fork child %d: %d status %#x", ft.pids[i], r, st);
	}
	close(hold[0]);
	EXPECT_EQ(0, bad);
	TH_LOG("%lu aforks while %lu fork()s ran in another thread", total, ft.n);
	EXPECT_NO_LEAK(base);
}

STRESS_MAIN
