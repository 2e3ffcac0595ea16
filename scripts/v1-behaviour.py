#!/usr/bin/env python3
# Put the v1 behaviour back in a v2 kernel tree (every finding of issue 12
# at once; the v2 structure and uapi stay), to show that the v2 tests catch
# what they claim.  docs/series.md and docs/verification.md say how to run it.
#   scripts/v1-behaviour.py [build/linux]
import os
import sys
os.chdir(sys.argv[1] if len(sys.argv) > 1 else 'build/linux')
def edit(p, old, new):
    s=open(p).read()
    assert s.count(old)==1, (p, old[:60])
    open(p,'w').write(s.replace(old,new))
# 2.1, 2.6 (put_user failure, mm_users), 2.5 (thread pidfds, marks)
s=open('kernel/fork.c').read()
a=s.index('	word = sig->afork_release;\n	sig->afork_release = NULL;\n	if (word) {')
b=s.index('	rcu_read_unlock();\n}\n', a)+len('	rcu_read_unlock();\n}\n')
s=s[:a]+'''	word = sig->afork_release;
	sig->afork_release = NULL;
	WRITE_ONCE(sig->afork_state, AFORK_STATE_RELEASED);
	smp_wmb();

	if (word && atomic_read(&mm->mm_users) > 1) {
		if (!put_user(0, word)) {
			do_futex(word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0, 0);
			do_futex(word, FUTEX_WAKE_PRIVATE, INT_MAX,
				 NULL, NULL, 0, 0);
		}
	}

	__wake_up(&task_tgid(tsk)->wait_pidfd, TASK_NORMAL, 0,
		  poll_to_key(EPOLLPRI));
	(void)t;
}
'''+s[b:]
open('kernel/fork.c','w').write(s)
# 2.6: the word written before checks that can fail
edit('kernel/fork.c','''		if (fault_in_safe_writeable((const char __user *)word,
					    sizeof(u32)))
			return -EFAULT;''','''		if (put_user(0, word))
			return -EFAULT;''')
# 2.2: MMF_MULTIPROCESS and the shared oom_score_adj
edit('kernel/fork.c','''	if (task_afork_shared(tsk))
		return;
''','')
edit('fs/proc/base.c','	if (!task->vfork_done && !task_afork_shared(task)) {\n','	if (!task->vfork_done) {\n')
edit('fs/proc/base.c','\t\t\tif (!p->vfork_done && !task_afork_shared(p) &&\n\t\t\t    process_shares_mm(p, mm)) {\n','\t\t\tif (!p->vfork_done && process_shares_mm(p, mm)) {\n')
# 2.3: flags kept across the parent's exec
edit('include/linux/afork.h','''	if (flags &&
	    p->parent_exec_id != READ_ONCE(p->real_parent->self_exec_id))
		return 0;
''','')
# 2.4: __ptrace_detach() auto-reaps
edit('kernel/ptrace.c','''		else if ((ignoring_children(tracer->sighand) &&
			  !afork_waitpid_only(p)) ||''','''		else if (ignoring_children(tracer->sighand) ||''')
# 2.5: no EPOLLPRI after the reap
edit('fs/pidfs.c','	if (afork_pid_released(pid) || (task && afork_released(task)))\n','	if (task && afork_released(task))\n')
# 2.2: oom_badness() scores the child (v1's in_vfork() was false for it)
edit('mm/oom_kill.c', '''			in_vfork(p)) {''', '''			(p->vfork_done && in_vfork(p))) {''')
print("oom_badness: v1 behaviour")
# 2.2: reported to tracers as a fork, and the caller never waits
edit('kernel/fork.c', '''		if ((clone_flags & CLONE_VFORK) || args->afork)
			trace = PTRACE_EVENT_VFORK;''', '''		if (clone_flags & CLONE_VFORK)
			trace = PTRACE_EVENT_VFORK;''')
edit('kernel/fork.c', '''		else if (args->exit_signal != SIGCHLD)
			trace = PTRACE_EVENT_CLONE;''', '''		else if (args->exit_signal != SIGCHLD && !args->afork)
			trace = PTRACE_EVENT_CLONE;''')
edit('kernel/fork.c', '''	} else if (unlikely(trace) && args->afork) {
		if (!afork_wait_for_release(pid))
			ptrace_event_pid(PTRACE_EVENT_VFORK_DONE, pid);
	}''', '''	}''')
print("v1 behaviour restored in the work tree")
