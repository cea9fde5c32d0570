/*
 * seccomp-BPF allow-lists for the checker and dcs children (DESIGN.md
 * section 11b).  Hand-written BPF, as OpenSSH's sandbox-seccomp-filter
 * does: no new library, and a filter short enough to read in one go.
 *
 * The filter checks the architecture, then the system call number.  A
 * call not listed kills the whole process (SECCOMP_RET_KILL_PROCESS);
 * the parent sees SIGSYS and says so.  A few calls that libraries make
 * only to probe for files fail with an errno instead, so that a library
 * looking for a configuration file cannot kill the child.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

#if defined(__x86_64__) && !defined(__ILP32__)
#define SANDBOX_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SANDBOX_ARCH	AUDIT_ARCH_AARCH64
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SANDBOX_ARCH	AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
#define SANDBOX_ARCH	AUDIT_ARCH_S390X
#elif defined(__riscv) && __riscv_xlen == 64
#define SANDBOX_ARCH	AUDIT_ARCH_RISCV64
#endif

/*
 * Under a sanitizer the runtime makes calls of its own (LeakSanitizer
 * even ptraces), so a sanitizer build logs instead of killing, as does a
 * build with -DYAIM_SANDBOX_LOG, for finding a missing call.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANDBOX_SANITIZER	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(undefined_behavior_sanitizer)
#define SANDBOX_SANITIZER	1
#endif
#endif
#if defined(YAIM_SANDBOX_LOG) || defined(SANDBOX_SANITIZER)
#define SANDBOX_DEFAULT	SECCOMP_RET_LOG
#define SANDBOX_KILLS	0
#else
#define SANDBOX_DEFAULT	SECCOMP_RET_KILL_PROCESS
#define SANDBOX_KILLS	1
#endif

#define ARG_LO(n)	(offsetof(struct seccomp_data, args[n]) + \
			    (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? 0 : 4))
#define SANDBOX_MAX_INSNS	256

/* Both children: the event loop, memory, time, sockets they own. */
static const int allow_common[] = {
#ifdef __NR_epoll_wait
	__NR_epoll_wait,
#endif
	__NR_epoll_pwait,
#ifdef __NR_epoll_pwait2
	__NR_epoll_pwait2,
#endif
	__NR_epoll_ctl,
	__NR_read, __NR_readv, __NR_write, __NR_writev,
	__NR_recvfrom, __NR_recvmsg, __NR_sendto, __NR_sendmsg,
	__NR_clock_gettime,
#ifdef __NR_gettimeofday
	__NR_gettimeofday,
#endif
#ifdef __NR_time
	__NR_time,
#endif
	__NR_clock_nanosleep, __NR_nanosleep,
#ifdef __NR_poll
	__NR_poll,
#endif
	__NR_ppoll,
#ifdef __NR_select
	__NR_select,
#endif
	__NR_pselect6,
	/* accept4: dcs serves the control socket (DESIGN.md section 13) */
	__NR_accept4,
	__NR_connect, __NR_getsockopt, __NR_setsockopt, __NR_getsockname,
	__NR_getpeername, __NR_shutdown, __NR_socketpair,
	__NR_close, __NR_fcntl,
#ifdef __NR_pipe
	__NR_pipe,
#endif
	__NR_pipe2, __NR_eventfd2,
#ifdef __NR_mmap
	__NR_mmap,
#endif
	__NR_munmap, __NR_mremap, __NR_mprotect, __NR_madvise, __NR_brk,
	__NR_futex, __NR_sched_yield, __NR_getrandom,
	__NR_getpid, __NR_gettid, __NR_getuid, __NR_geteuid, __NR_getgid,
	__NR_getegid,
	__NR_rt_sigaction, __NR_rt_sigprocmask, __NR_rt_sigreturn,
	__NR_restart_syscall, __NR_exit, __NR_exit_group,
#ifdef __NR_fstat
	__NR_fstat,
#endif
#ifdef __NR_newfstatat
	__NR_newfstatat,
#endif
#ifdef __NR_statx
	__NR_statx,
#endif
	__NR_lseek, __NR_uname,
	/* a thread (see clone below) sets these up */
	__NR_set_robust_list,
#ifdef __NR_rseq
	__NR_rseq,
#endif
};

/* What only one child needs; empty so far, kept apart on purpose. */
static const int allow_checker[] = { -1 };
static const int allow_dcs[] = { -1 };

/*
 * File probes fail as if nothing were there, as they would in the empty
 * chroot: libpq (~/.pgpass, /etc/passwd through getpwuid) and OpenSSL
 * look, and OpenSSL ignores a missing configuration file only when the
 * error is ENOENT.
 */
static const struct { int nr, err; } deny_errno[] = {
#ifdef __NR_open
	{ __NR_open, ENOENT },
#endif
	{ __NR_openat, ENOENT },
#ifdef __NR_access
	{ __NR_access, ENOENT },
#endif
	{ __NR_faccessat, ENOENT },
#ifdef __NR_faccessat2
	{ __NR_faccessat2, ENOENT },
#endif
#ifdef __NR_stat
	{ __NR_stat, ENOENT },
#endif
#ifdef __NR_lstat
	{ __NR_lstat, ENOENT },
#endif
#ifdef __NR_readlink
	{ __NR_readlink, ENOENT },
#endif
	{ __NR_readlinkat, ENOENT },
	/* glibc's pthread_create falls back to clone, whose flags we see */
#ifdef __NR_clone3
	{ __NR_clone3, ENOSYS },
#endif
};

/* ioctls: non-blocking mode and bytes pending; isatty() from stdio. */
static const uint32_t allow_ioctl[] = { FIONBIO, FIONREAD, TCGETS };

struct bpf_prog {
	struct sock_filter	 insn[SANDBOX_MAX_INSNS];
	size_t			 n;
};

static void
emit(struct bpf_prog *p, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
	if (p->n == SANDBOX_MAX_INSNS)
		fatalx("%s: the filter outgrew %d instructions", __func__,
		    SANDBOX_MAX_INSNS);
	p->insn[p->n++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
}

static void
load_nr(struct bpf_prog *p)
{
	emit(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr),
	    0, 0);
}

/* if nr == the number: return action */
static void
on_nr(struct bpf_prog *p, int nr, uint32_t action)
{
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1);
	emit(p, BPF_RET | BPF_K, action, 0, 0);
}

static void
allow_list(struct bpf_prog *p, const int *nrs, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (nrs[i] >= 0)
			on_nr(p, nrs[i], SECCOMP_RET_ALLOW);
}

/*
 * if nr == the number: allow when the low 32 bits of argument arg are
 * one of vals, errno when it equals errval (0: none), else the default.
 * Every int argument we test is 32 bits wide in the kernel.  When nr
 * does not match, the accumulator still holds it for the next test.
 */
static void
on_arg(struct bpf_prog *p, int nr, int arg, const uint32_t *vals,
    size_t n, uint32_t errval, int err)
{
	size_t	 i, body = 2 * n + (errval ? 2 : 0) + 2;

	emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, (uint8_t)body);
	emit(p, BPF_LD | BPF_W | BPF_ABS, ARG_LO(arg), 0, 0);
	for (i = 0; i < n; i++)
		on_nr(p, (int)vals[i], SECCOMP_RET_ALLOW);
	if (errval != 0)
		on_nr(p, (int)errval, SECCOMP_RET_ERRNO | (uint32_t)err);
	emit(p, BPF_RET | BPF_K, SANDBOX_DEFAULT, 0, 0);
}

/* clone: threads only (CLONE_THREAD set); a new process is not. */
static void
on_clone(struct bpf_prog *p)
{
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 4);
	emit(p, BPF_LD | BPF_W | BPF_ABS, ARG_LO(0), 0, 0);
	emit(p, BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 1);
	emit(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
	emit(p, BPF_RET | BPF_K, SANDBOX_DEFAULT, 0, 0);
}

static void
build(struct bpf_prog *p, enum sandbox_role role)
{
	const uint32_t	 families[] = { AF_INET, AF_INET6 };
	uint32_t	 self = (uint32_t)getpid();
	size_t		 i;

	p->n = 0;
	emit(p, BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch), 0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_ARCH, 1, 0);
	emit(p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, 0, 0);
	load_nr(p);
	allow_list(p, allow_common, sizeof(allow_common) /
	    sizeof(allow_common[0]));
	if (role == SANDBOX_CHECKER)
		allow_list(p, allow_checker, sizeof(allow_checker) /
		    sizeof(allow_checker[0]));
	else
		allow_list(p, allow_dcs, sizeof(allow_dcs) /
		    sizeof(allow_dcs[0]));
	for (i = 0; i < sizeof(deny_errno) / sizeof(deny_errno[0]); i++)
		on_nr(p, deny_errno[i].nr,
		    SECCOMP_RET_ERRNO | (uint32_t)deny_errno[i].err);
	/*
	 * Both children reach etcd or a health check over IPv4 or IPv6.
	 * AF_UNIX fails (glibc's syslog reconnecting after a syslogd
	 * restart; the chroot has no /dev/log, and abstract sockets stay
	 * out of reach); any other family kills.
	 */
	on_arg(p, __NR_socket, 0, families, 2, AF_UNIX, EACCES);
	on_arg(p, __NR_ioctl, 1, allow_ioctl, sizeof(allow_ioctl) /
	    sizeof(allow_ioctl[0]), 0, 0);
	/* signals: to ourselves only (abort(), raise()) */
	on_arg(p, __NR_tgkill, 0, &self, 1, 0, 0);
	on_clone(p);
	emit(p, BPF_RET | BPF_K, SANDBOX_DEFAULT, 0, 0);
}

int
sandbox_kills(void)
{
#ifdef SANDBOX_ARCH
	return SANDBOX_KILLS;
#else
	return 0;
#endif
}

int
sandbox_install(enum sandbox_role role)
{
#ifdef SANDBOX_ARCH
	static struct bpf_prog	 prog;
	struct sock_fprog	 fprog;

	build(&prog, role);
	memset(&fprog, 0, sizeof(fprog));
	fprog.len = (unsigned short)prog.n;
	fprog.filter = prog.insn;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	return (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog);
#else
	(void)role;
	errno = ENOSYS;
	return -1;
#endif
}

void
sandbox_enter(enum sandbox_role role)
{
	const char	*name = role == SANDBOX_CHECKER ? "checker" : "dcs";

#ifndef SANDBOX_ARCH
	log_warnx("%s: no seccomp filter for this architecture; the %s "
	    "child runs without one", __func__, name);
	return;
#endif
	if (sandbox_install(role) == -1)
		fatal("%s: cannot install the %s seccomp filter", __func__,
		    name);
	if (!sandbox_kills())
		log_warnx("%s: the %s seccomp filter logs calls outside its "
		    "allow-list instead of killing (a sanitizer or "
		    "YAIM_SANDBOX_LOG build)", __func__, name);
	else
		log_debug("%s: %s seccomp filter installed", __func__, name);
}
