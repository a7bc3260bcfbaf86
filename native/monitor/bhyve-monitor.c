/*
 * bhyve-monitor: one small process per guest that owns the guest's bhyve for its whole life, so
 * that the agent (a short-lived process started over SSH) can come and go without losing the
 * guest, its exit status or its console output.
 *
 *   bhyve-monitor [-f] [-n] [-a PID] SPECDIR
 *
 * -f stays in the foreground; -n says the caller has just done what prestart does (the agent makes
 * the guest's taps ready itself as it starts the monitor): the first start skips prestart, every
 * later one (a reboot, a restart after a crash) runs it. -a adopts a running guest (see Adoption).
 *
 * SPECDIR holds what the agent rendered, in forms C reads without a parser library:
 *   bhyve.argv, bhyveload.argv (optional), prestart.argv (optional), destroy.argv, poweroff.argv
 *       argv vectors, each argument terminated by a NUL byte; argv[0] is an absolute path.
 *       prestart runs before every start (bhyveload and bhyve), e.g. to (re)create the guest's
 *       taps on their bridges; when it fails, the start counts as failed.
 *   monitor.conf
 *       key=value lines: name, restart (always|on-reboot|never), run_dir, log_file, vm_dev,
 *       owner_file, stop_timeout_ms, kill_timeout_ms, helper_timeout_ms, backoff_initial_ms,
 *       backoff_max_ms, crash_limit, crash_window_s, log_max_bytes. Every key is required.
 *
 * It writes run_dir/monitor.pid (locked with flock for the monitor's whole life, so that a second
 * monitor for the guest is refused, and so that a reader can tell a live pid file from a stale one:
 * the pid in it counts only while it is locked), run_dir/status (key=value, replaced atomically),
 * run_dir/events (one line per event), run_dir/bhyve.argv (the argv it runs, as read at its start:
 * what is really running even if the spec is rewritten later), and the guest's console output to
 * log_file (rotated to log_file.0 at log_max_bytes). A missing run_dir is made 0700, a missing log
 * directory 0750; files replaced atomically are written to a fresh temporary file (O_EXCL,
 * O_NOFOLLOW), fsynced and renamed.
 *
 * VM ownership: owner_file (the agent puts it in run_dir, which is cleared at boot as /dev/vmm is)
 * marks the kernel VM named vm_dev as this guest's. Before anything creates or touches the VM, the
 * monitor checks: a VM that exists without the owner file belongs to someone else, and the monitor
 * leaves it alone (no destroy, no bhyveload, no bhyve), records state stopped, reason foreign-vm,
 * and exits 78 (EX_CONFIG) with a message on stderr when it finds this before detaching (-a is the
 * one exception, see Adoption). Otherwise it writes the owner file (name=NAME, created=TIME) before
 * the first bhyveload or bhyve. It runs the destroy command only while the owner file exists, and
 * removes the file once its final destroy has left no VM behind.
 *
 * bhyve, bhyveload and bhyvectl run with PATH=/sbin:/bin:/usr/sbin:/usr/bin and the caller's
 * locale variables (LANG, LC_*) only, and with no descriptors but 0-2; the monitor drops any other
 * inherited descriptor and environment variable as it starts.
 *
 * bhyve(8) exit status decides what happens next: 0 (reboot) runs the guest again unless restart
 * is never; 1 (poweroff) and 2 (halt) stop; 3 (triple fault), 4 (error) and death by a signal run
 * it again only with restart=always, after an exponential backoff, and give up as "crashed" after
 * crash_limit failures within crash_window_s. SIGTERM asks the guest to power off (SIGTERM to
 * bhyve is the ACPI power button), then after stop_timeout_ms runs the poweroff command
 * (bhyvectl --force-poweroff), then SIGKILL after kill_timeout_ms. Whenever the monitor stops for
 * good it runs the destroy command (bhyvectl --destroy), because a VM outlives its bhyve process
 * and keeps its wired memory and passthrough devices until destroyed.
 *
 * Adoption (-a PID): the VM at vm_dev exists and is run by the bhyve process PID, which the monitor
 * did not start (vm-bhyve's, or one started by hand); the caller has checked that PID is that VM's
 * bhyve. The monitor takes the guest over without restarting it. After the pid-file lock (75 as
 * ever), it refuses with 66 (EX_NOINPUT) when no VM exists at vm_dev or PID is not a running
 * process, and with 71 when this system cannot watch a process it did not fork. It then claims the
 * VM although it exists (the one deliberate exception to the foreign-VM rule): it writes the owner
 * file with a line adopted_pid=PID, or keeps one that is already there. It watches PID through a
 * descriptor of the process itself, never by polling its bare pid, which an unrelated process may
 * take once PID ended: a kqueue EVFILT_PROC/NOTE_EXIT on the BSDs, whose event carries the wait(2)
 * status, a pidfd on Linux (pidfd_open(2); its signals go through pidfd_send_signal(2)), where the
 * status of a process that is not the monitor's child cannot be read. The watch starts before the
 * caller is told the monitor is ready, so an end in between is seen (a kqueue does not cross
 * fork(2): the BSDs register again after detaching, a window of two forks, shorter than the one
 * between the caller's check and this monitor's start). PID is supervised as the monitor's own
 * bhyve: status running with its pid, an adopt event, the same SIGTERM sequence, an exit event when
 * it ends (code=unknown when its status cannot be read). Its output is not the monitor's (the guest
 * log only notes the adoption). run_dir/bhyve.argv is written from the spec as at any start: the
 * caller adopts a bhyve only when the spec describes the machine it runs (the agent checks this).
 * After PID ended, a known status is read as bhyve(8)'s exit status; an unknown one stops the
 * monitor for good, reason exit-unknown (fail closed: a guest whose last run cannot be read is not
 * started again). A restart runs prestart (unless -n), bhyveload and bhyve from the spec, as ever.
 *
 * Exit status: 0 once detached (or, with -f, when it stopped), 64 usage, 65 bad spec, 66 nothing to
 * adopt (-a), 71 system error, 73 the owner file cannot be written, 75 the guest is already
 * monitored, 78 a foreign VM.
 *
 * Portable POSIX; runs on FreeBSD in production and on Linux in tests.
 */
#if defined(__linux__)
#define _GNU_SOURCE
#endif

#include <sys/types.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "deadline.h"
#include "decide.h"

/*
 * Watching a process the monitor did not fork (-a): by a descriptor that names the process itself,
 * never by its bare pid, which another process may take once it ended. The BSDs: a kqueue(2) with
 * EVFILT_PROC/NOTE_EXIT, whose event carries the wait(2) status. Linux (tests): a pidfd, readable
 * once the process ended; its status is not ours to read there.
 */
#if defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__) || defined(__DragonFly__)
#include <sys/event.h>
#define WATCH_KQUEUE 1
#elif defined(__linux__)
#include <sys/syscall.h>
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#define WATCH_PIDFD 1
#endif

/* closefrom(2): FreeBSD (8.0 and later) and the other BSDs, glibc 2.34 and later. */
#if defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__) || defined(__DragonFly__) || \
    (defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34)))
#define HAVE_CLOSEFROM 1
#endif

#define EX_USAGE 64
#define EX_DATAERR 65
#define EX_NOINPUT 66
#define EX_OSERR 71
#define EX_CANTCREAT 73
#define EX_TEMPFAIL 75
#define EX_CONFIG 78

/* poll(2) without a deadline. */
#define WAIT_FOREVER (-1)
/* How often a new bhyve is looked at until its VM exists (a few stat calls per start). */
#define VM_SEEN_POLL_MS 50
/* The wait(2) status of a bhyve that ended in a way the monitor cannot read (adopted, on Linux). */
#define STATUS_UNKNOWN (-2)

#define FOREIGN_VM_MSG "a VM named %s exists that the agent did not create; not touching it " \
	"(rename the guest, or stop that VM yourself)"

/* The PATH the monitor and its children get. */
#define CLEAN_PATH "PATH=/sbin:/bin:/usr/sbin:/usr/bin"
#define MAX_ENV 32

extern char **environ;

#define MAX_ARGS 512
#define MAX_FILE (256 * 1024)
#define MAX_FAILURES 64

struct argvec {
	char *buf;
	size_t len;
	char *argv[MAX_ARGS + 1];
	int argc;
};

struct config {
	char name[256];
	char restart[16];
	char run_dir[PATH_MAX];
	char log_file[PATH_MAX];
	char vm_dev[PATH_MAX];
	char owner_file[PATH_MAX];
	long stop_timeout_ms;
	long kill_timeout_ms;
	long helper_timeout_ms;
	long backoff_initial_ms;
	long backoff_max_ms;
	long crash_limit;
	long crash_window_s;
	long log_max_bytes;
	/* The serial console: the nmdm(4) B side the monitor holds (empty: no console), its log, the attach socket. */
	char console_device[PATH_MAX];
	char console_log[PATH_MAX];
	char console_socket[PATH_MAX];
	long console_log_max;
};

static struct config cfg;
static struct argvec bhyve_cmd, load_cmd, prestart_cmd, destroy_cmd, poweroff_cmd;
static int have_load, have_prestart;

static int sig_pipe[2] = { -1, -1 };
static int log_pipe[2] = { -1, -1 };
static int log_fd = -1;
static int events_fd = -1;
static int pid_fd = -1;
static char pid_path[PATH_MAX], status_path[PATH_MAX], events_path[PATH_MAX];

static volatile sig_atomic_t stop_requested;

/* PATH and the locale: the whole environment of the monitor and of what it runs. */
static char *clean_env[MAX_ENV + 1];

/* What the status file says. */
static struct {
	const char *state;
	const char *reason;
	pid_t bhyve_pid;
	long restarts;
	char started_at[32];
	int last_code;		/* -1 when none */
	int last_signal;	/* 0 when none */
	char last_at[32];
} st = { "starting", "", 0, 0, "", -1, 0, "" };

/*
 * The adopted bhyve (-a): a process the monitor did not fork, so neither waitpid(2) nor SIGCHLD
 * tells of its end; the watch (see WATCH_KQUEUE, WATCH_PIDFD) does.
 */
static struct {
	pid_t pid;	/* 0: nothing adopted, or its run is over */
	int fd;		/* the watch: a kqueue or a pidfd; -1 when none */
	int ended;	/* its end was seen */
	int status;	/* then: its wait(2) status, or STATUS_UNKNOWN */
	int owner_written;	/* this monitor wrote the owner file for it (undone when the adoption fails) */
} adopted = { 0, -1, 0, 0, 0 };

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
iso_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03dZ", (int)(ts.tv_nsec / 1000000));
}

static const char *
signame(int sig)
{
	static char other[16];

	switch (sig) {
	case SIGHUP: return "SIGHUP";
	case SIGINT: return "SIGINT";
	case SIGQUIT: return "SIGQUIT";
	case SIGILL: return "SIGILL";
	case SIGABRT: return "SIGABRT";
	case SIGFPE: return "SIGFPE";
	case SIGKILL: return "SIGKILL";
	case SIGBUS: return "SIGBUS";
	case SIGSEGV: return "SIGSEGV";
	case SIGPIPE: return "SIGPIPE";
	case SIGALRM: return "SIGALRM";
	case SIGTERM: return "SIGTERM";
	case SIGUSR1: return "SIGUSR1";
	case SIGUSR2: return "SIGUSR2";
	default:
		snprintf(other, sizeof(other), "SIG%d", sig);
		return other;
	}
}

static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Replaces path with buf atomically: a temporary file beside it (a leftover one is removed first,
 * then it is created with O_EXCL|O_NOFOLLOW, so that nothing planted under that name is followed
 * or reused), written, fsynced, then renamed over path. Returns 0, or -1 with errno set.
 */
static int
write_atomic(const char *path, const char *buf, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (unlink(tmp) != 0 && errno != ENOENT)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	if (write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return -1;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return 0;
}

/* Appends to the guest log, rotating it to log_file.0 when it would pass log_max_bytes. */
static void
log_write(const char *buf, size_t len)
{
	struct stat sb;
	char old[PATH_MAX + 2];

	if (log_fd < 0)
		return;
	if (cfg.log_max_bytes > 0 && fstat(log_fd, &sb) == 0 &&
	    sb.st_size + (off_t)len > cfg.log_max_bytes && sb.st_size > 0) {
		snprintf(old, sizeof(old), "%s.0", cfg.log_file);
		rename(cfg.log_file, old);
		close(log_fd);
		log_fd = open(cfg.log_file, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
		if (log_fd < 0)
			return;
	}
	if (cfg.log_max_bytes > 0 && (long)len > cfg.log_max_bytes) {
		buf += len - (size_t)cfg.log_max_bytes;
		len = (size_t)cfg.log_max_bytes;
	}
	(void)write_all(log_fd, buf, len);
}

/* A line of the monitor's own in the guest log. */
static void
log_note(const char *fmt, ...)
{
	char line[1024], stamp[32];
	int n;
	va_list ap;

	iso_now(stamp, sizeof(stamp));
	n = snprintf(line, sizeof(line), "%s bhyve-monitor: ", stamp);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	log_write(line, (size_t)n);
}

/* One line in the events file: time, event, then key=value fields. */
static void
event(const char *what, const char *fmt, ...)
{
	char line[1024], stamp[32];
	int n;
	va_list ap;

	iso_now(stamp, sizeof(stamp));
	n = snprintf(line, sizeof(line), "%s event=%s", stamp, what);
	if (fmt != NULL && *fmt != '\0') {
		line[n++] = ' ';
		va_start(ap, fmt);
		n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	if (n >= (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (events_fd >= 0)
		(void)write_all(events_fd, line, (size_t)n);
}

/* Replaces the status file atomically. */
static void
write_status(void)
{
	char buf[2048], stamp[32], code[16] = "";
	int n;

	iso_now(stamp, sizeof(stamp));
	if (st.last_code >= 0)
		snprintf(code, sizeof(code), "%d", st.last_code);
	n = snprintf(buf, sizeof(buf),
	    "name=%s\nstate=%s\nreason=%s\nmonitor_pid=%ld\nbhyve_pid=%ld\nrestarts=%ld\n"
	    "started_at=%s\nlast_exit_code=%s\nlast_exit_signal=%s\nlast_exit_at=%s\nupdated_at=%s\n",
	    cfg.name, st.state, st.reason, (long)getpid(), (long)st.bhyve_pid, st.restarts,
	    st.started_at, code, st.last_signal ? signame(st.last_signal) : "", st.last_at, stamp);
	if (n >= (int)sizeof(buf))
		n = (int)sizeof(buf) - 1;
	(void)write_atomic(status_path, buf, (size_t)n, 0644);
}

/* Records the argv this monitor runs (read once at its start), replacing the file atomically. */
static void
write_running_argv(void)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/bhyve.argv", cfg.run_dir) < (int)sizeof(path))
		(void)write_atomic(path, bhyve_cmd.buf, bhyve_cmd.len, 0644);
}

static void
set_state(const char *state, const char *reason)
{
	st.state = state;
	st.reason = reason;
	write_status();
}

static void
on_signal(int sig)
{
	int saved = errno;
	char c = sig == SIGCHLD ? 'C' : 'T';

	if (sig != SIGCHLD)
		stop_requested = 1;
	(void)write(sig_pipe[1], &c, 1);
	errno = saved;
}

static int
set_flags(int fd, int fdflags, int flflags)
{
	int f = fcntl(fd, F_GETFD);

	if (f < 0 || fcntl(fd, F_SETFD, f | fdflags) < 0)
		return -1;
	f = fcntl(fd, F_GETFL);
	if (f < 0 || fcntl(fd, F_SETFL, f | flflags) < 0)
		return -1;
	return 0;
}

static int
read_file(const char *dir, const char *file, char **out, size_t *len)
{
	char path[PATH_MAX];
	struct stat sb;
	int fd;
	ssize_t n;
	size_t got = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) != 0 || sb.st_size > MAX_FILE) {
		close(fd);
		errno = EFBIG;
		return -1;
	}
	*out = malloc((size_t)sb.st_size + 1);
	if (*out == NULL) {
		close(fd);
		return -1;
	}
	while (got < (size_t)sb.st_size) {
		n = read(fd, *out + got, (size_t)sb.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	(*out)[got] = '\0';
	*len = got;
	return 0;
}

/* Reads a NUL-separated argv file; argv[0] must be an absolute path (no PATH search, no shell). */
static int
read_argv(const char *dir, const char *file, struct argvec *av)
{
	size_t len, i, start = 0;

	if (read_file(dir, file, &av->buf, &len) != 0)
		return -1;
	av->len = len;
	av->argc = 0;
	for (i = 0; i < len; i++) {
		if (av->buf[i] != '\0')
			continue;
		if (av->argc == MAX_ARGS) {
			errno = E2BIG;
			return -1;
		}
		av->argv[av->argc++] = av->buf + start;
		start = i + 1;
	}
	av->argv[av->argc] = NULL;
	if (av->argc == 0 || start != len || av->argv[0][0] != '/') {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int
parse_long(const char *v, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(v, &end, 10);
	return errno == 0 && end != v && *end == '\0' && *out >= 0 ? 0 : -1;
}

static int
copy_str(char *dst, size_t size, const char *v)
{
	if (strlen(v) >= size)
		return -1;
	strcpy(dst, v);
	return 0;
}

/* What is wrong with monitor.conf, for the message: the key, and what it should be. */
static char conf_problem[320];

static void
conf_bad(const char *key, const char *what)
{
	if (conf_problem[0] == '\0')
		snprintf(conf_problem, sizeof(conf_problem), "%s: %s", key, what);
}

static int
read_config(const char *dir)
{
	static const struct {
		const char *key;
		long *value;
	} numbers[] = {
		{ "stop_timeout_ms", &cfg.stop_timeout_ms },
		{ "kill_timeout_ms", &cfg.kill_timeout_ms },
		{ "helper_timeout_ms", &cfg.helper_timeout_ms },
		{ "backoff_initial_ms", &cfg.backoff_initial_ms },
		{ "backoff_max_ms", &cfg.backoff_max_ms },
		{ "crash_limit", &cfg.crash_limit },
		{ "crash_window_s", &cfg.crash_window_s },
		{ "log_max_bytes", &cfg.log_max_bytes },
		{ "console_log_max", &cfg.console_log_max },
	};
	static const struct {
		const char *key;
		char *value;
		size_t size;
	} strings[] = {
		{ "name", cfg.name, sizeof(cfg.name) },
		{ "restart", cfg.restart, sizeof(cfg.restart) },
		{ "run_dir", cfg.run_dir, sizeof(cfg.run_dir) },
		{ "log_file", cfg.log_file, sizeof(cfg.log_file) },
		{ "vm_dev", cfg.vm_dev, sizeof(cfg.vm_dev) },
		{ "owner_file", cfg.owner_file, sizeof(cfg.owner_file) },
		{ "console_device", cfg.console_device, sizeof(cfg.console_device) },
		{ "console_log", cfg.console_log, sizeof(cfg.console_log) },
		{ "console_socket", cfg.console_socket, sizeof(cfg.console_socket) },
	};
	/*
	 * Every key is required: the agent writes them all, and its settings (agent/guests/monitor-spec.ts)
	 * are the only defaults, so the two can never disagree.
	 */
	int number_seen[sizeof(numbers) / sizeof(numbers[0])] = { 0 };
	int string_seen[sizeof(strings) / sizeof(strings[0])] = { 0 };
	char *buf, *line, *next, *eq;
	size_t len, i;
	int known;

	if (read_file(dir, "monitor.conf", &buf, &len) != 0)
		return -1;
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (*line == '\0' || *line == '#')
			continue;
		eq = strchr(line, '=');
		if (eq == NULL) {
			conf_bad(line, "a line without key=value");
			continue;
		}
		*eq++ = '\0';
		known = 0;
		for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
			if (strcmp(line, strings[i].key) != 0)
				continue;
			known = 1;
			string_seen[i] = 1;
			if (copy_str(strings[i].value, strings[i].size, eq) != 0)
				conf_bad(line, "too long");
		}
		for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
			if (strcmp(line, numbers[i].key) != 0)
				continue;
			known = 1;
			number_seen[i] = 1;
			if (parse_long(eq, numbers[i].value) != 0)
				conf_bad(line, "expected a whole number, 0 or more");
		}
		if (!known)
			conf_bad(line, "unknown key");
	}
	free(buf);
	if (cfg.name[0] == '\0')
		conf_bad("name", "missing");
	if (cfg.run_dir[0] != '/')
		conf_bad("run_dir", "missing or not an absolute path");
	if (cfg.log_file[0] != '/')
		conf_bad("log_file", "missing or not an absolute path");
	if (cfg.vm_dev[0] != '/')
		conf_bad("vm_dev", "missing or not an absolute path");
	if (cfg.owner_file[0] != '/')
		conf_bad("owner_file", "missing or not an absolute path");
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		if (!string_seen[i])
			conf_bad(strings[i].key, "missing");
	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		if (!number_seen[i])
			conf_bad(numbers[i].key, "missing");
	if (cfg.console_device[0] != '\0' && (cfg.console_device[0] != '/' || cfg.console_log[0] != '/' ||
	    (cfg.console_socket[0] != '\0' && cfg.console_socket[0] != '/')))
		conf_bad("console_device", "with a console, console_device and console_log are absolute paths, and console_socket absolute or empty");
	if (strlen(cfg.console_socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		conf_bad("console_socket", "longer than a socket address can be");
	if (cfg.crash_limit < 1)
		conf_bad("crash_limit", "must be 1 or more");
	if (cfg.backoff_initial_ms < 1)
		conf_bad("backoff_initial_ms", "must be 1 or more");
	if (strcmp(cfg.restart, "always") != 0 && strcmp(cfg.restart, "on-reboot") != 0 &&
	    strcmp(cfg.restart, "never") != 0)
		conf_bad("restart", "expected always, on-reboot or never");
	if (conf_problem[0] != '\0') {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* Closes every descriptor from lowfd up. */
static void
close_from(int lowfd)
{
#ifdef HAVE_CLOSEFROM
	closefrom(lowfd);
#else
	long max = sysconf(_SC_OPEN_MAX);
	int fd;

	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = lowfd; fd < max; fd++)
		(void)close(fd);
#endif
}

/* Makes sure 0-2 are open (on /dev/null), so that no file the monitor opens lands there. */
static void
standard_fds(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) < 0)
			_exit(EX_OSERR);
	}
}

/* Keeps PATH (a fixed one) and the locale (LANG, LC_*) of the environment, nothing else. */
static void
clean_environment(void)
{
	static char path[] = CLEAN_PATH;
	char **e;
	int n = 0;

	clean_env[n++] = path;
	for (e = environ; e != NULL && *e != NULL && n < MAX_ENV; e++) {
		if (strchr(*e, '=') == NULL)
			continue;
		if (strncmp(*e, "LANG=", 5) == 0 || strncmp(*e, "LC_", 3) == 0)
			clean_env[n++] = *e;
	}
	clean_env[n] = NULL;
	environ = clean_env;
}

/* Starts a command with its output going to the log pipe; returns its pid. */
static pid_t
spawn(struct argvec *av)
{
	pid_t pid = fork();
	int devnull, sig;
	sigset_t none;

	if (pid != 0)
		return pid;
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		if (devnull != STDIN_FILENO)
			close(devnull);
	}
	dup2(log_pipe[1], STDOUT_FILENO);
	dup2(log_pipe[1], STDERR_FILENO);
	close_from(STDERR_FILENO + 1);
	execve(av->argv[0], av->argv, clean_env);
	dprintf(STDERR_FILENO, "bhyve-monitor: cannot run %s: %s\n", av->argv[0], strerror(errno));
	_exit(127);
}

/* Copies whatever the children wrote into the log. */
static void
drain_log(void)
{
	char buf[8192];
	ssize_t n;

	for (;;) {
		n = read(log_pipe[0], buf, sizeof(buf));
		if (n > 0) {
			log_write(buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return;
	}
}

static void
drain_signals(void)
{
	char buf[64];

	while (read(sig_pipe[0], buf, sizeof(buf)) > 0)
		;
}

/*
 * Starts watching the adopted process. -1 with errno: ESRCH (EINVAL on Linux for a pid that is not
 * a process) when there is no such process, ENOSYS when this system has no way to watch it; there
 * is no fallback to polling the bare pid, which could by then name an unrelated process.
 */
static int
adopt_watch(void)
{
#if defined(WATCH_KQUEUE)
	struct kevent kev;
	int kq, saved;

	kq = kqueue();
	if (kq < 0)
		return -1;
	EV_SET(&kev, (uintptr_t)adopted.pid, EVFILT_PROC, EV_ADD | EV_ONESHOT, NOTE_EXIT, 0, 0);
	if (kevent(kq, &kev, 1, NULL, 0, NULL) != 0 || set_flags(kq, FD_CLOEXEC, 0) != 0) {
		saved = errno;
		close(kq);
		errno = saved;
		return -1;
	}
	adopted.fd = kq;
	return 0;
#elif defined(WATCH_PIDFD)
	long fd = syscall(SYS_pidfd_open, (long)adopted.pid, 0L);	/* close-on-exec always */

	if (fd < 0)
		return -1;
	adopted.fd = (int)fd;
	return 0;
#else
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * In the detached monitor, before it reports ready: a kqueue does not cross fork(2), so the BSDs
 * watch again (a pidfd does). A process that ended meanwhile is then noticed: a zombie fires the
 * new watch at once with its status; one already reaped is gone (ESRCH), its status unknown.
 */
static int
adopt_watch_after_fork(void)
{
#if defined(WATCH_KQUEUE)
	adopted.fd = -1;	/* the parent's kqueue did not come along: there is nothing to close */
	if (adopt_watch() == 0)
		return 0;
	if (errno != ESRCH)
		return -1;
	adopted.ended = 1;
	adopted.status = STATUS_UNKNOWN;
#endif
	return 0;
}

/* Notes, without waiting, whether the adopted process has ended. */
static void
adopt_poll(void)
{
#if defined(WATCH_KQUEUE)
	struct kevent kev;
	struct timespec zero = { 0, 0 };
#elif defined(WATCH_PIDFD)
	struct pollfd p;
#endif

	if (adopted.fd < 0 || adopted.ended)
		return;
#if defined(WATCH_KQUEUE)
	if (kevent(adopted.fd, NULL, 0, &kev, 1, &zero) == 1 && (kev.fflags & NOTE_EXIT) != 0) {
		adopted.ended = 1;
		adopted.status = (int)kev.data;	/* as wait(2) gives it (FreeBSD's kqueue(2)) */
	}
#elif defined(WATCH_PIDFD)
	p.fd = adopted.fd;
	p.events = POLLIN;
	p.revents = 0;
	if (poll(&p, 1, 0) > 0) {
		adopted.ended = 1;
		adopted.status = STATUS_UNKNOWN;	/* only its parent can read it */
	}
#endif
}

/* Signals the adopted process: through its pidfd on Linux; kill(2) on the BSDs, only while its watch has not fired. */
static void
adopt_signal(int sig)
{
	adopt_poll();
	if (adopted.ended)
		return;
#if defined(WATCH_PIDFD)
	(void)syscall(SYS_pidfd_send_signal, (long)adopted.fd, (long)sig, NULL, 0L);
#else
	(void)kill(adopted.pid, sig);
#endif
}

/* Ends the watch once the adopted run is over: from then on the monitor runs its own bhyve. */
static void
adopt_release(void)
{
	if (adopted.fd >= 0)
		close(adopted.fd);
	adopted.fd = -1;
	adopted.pid = 0;
}

/*
 * The serial console. bhyve's com1 is the A side of an nmdm(4) pair; the monitor holds the B side
 * (opening it creates the pair on FreeBSD, so nothing bhyve writes is lost), keeps what the guest
 * prints in console_log (rotated to console_log.0 past console_log_max), and serves attach
 * requests on console_socket (0600, in the guest's run directory): every client gets the output
 * from the moment it attaches, and what a client sends is the guest's input. When the B side
 * cannot be opened yet, or reads end (the pair went away), it is tried again every 200 ms.
 */
#define CONSOLE_CLIENTS 8
#define CONSOLE_RETRY_MS 200
static int con_fd = -1, con_listen = -1, con_log = -1;
static int con_clients[CONSOLE_CLIENTS] = { -1, -1, -1, -1, -1, -1, -1, -1 };
static long con_next_try;

static int
console_enabled(void)
{
	return cfg.console_device[0] != '\0';
}

static void
console_log_write(const char *buf, size_t len)
{
	struct stat sb;
	char old[PATH_MAX + 2];

	if (con_log >= 0 && cfg.console_log_max > 0 && fstat(con_log, &sb) == 0 &&
	    sb.st_size > 0 && sb.st_size + (off_t)len > cfg.console_log_max &&
	    snprintf(old, sizeof(old), "%s.0", cfg.console_log) < (int)sizeof(old)) {
		(void)rename(cfg.console_log, old);
		close(con_log);
		con_log = -1;
	}
	if (con_log < 0)
		con_log = open(cfg.console_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (con_log >= 0)
		(void)write(con_log, buf, len);
}

/* Opens the attach socket (a stale one of this guest's run directory is replaced). */
static void
console_setup(void)
{
	struct sockaddr_un sa;
	struct stat sb;

	if (!console_enabled() || cfg.console_socket[0] == '\0')
		return;
	if (lstat(cfg.console_socket, &sb) == 0 && S_ISSOCK(sb.st_mode))
		(void)unlink(cfg.console_socket);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, cfg.console_socket, strlen(cfg.console_socket));
	con_listen = socket(AF_UNIX, SOCK_STREAM, 0);
	if (con_listen < 0 || set_flags(con_listen, FD_CLOEXEC, O_NONBLOCK) != 0 ||
	    bind(con_listen, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(cfg.console_socket, 0600) != 0 ||
	    listen(con_listen, 4) != 0) {
		log_note("console: cannot listen on %s: %s", cfg.console_socket, strerror(errno));
		if (con_listen >= 0)
			close(con_listen);
		con_listen = -1;
	}
}

static void
console_close_device(void)
{
	if (con_fd >= 0)
		close(con_fd);
	con_fd = -1;
	con_next_try = now_ms() + CONSOLE_RETRY_MS;
}

/* Opens the B side when it is not open and its retry time has come; raw, so bytes pass unchanged. */
static void
console_try_open(void)
{
	struct termios t;
	int fd;

	if (!console_enabled() || con_fd >= 0 || now_ms() < con_next_try)
		return;
	fd = open(cfg.console_device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		con_next_try = now_ms() + CONSOLE_RETRY_MS;
		return;
	}
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		(void)tcsetattr(fd, TCSANOW, &t);
	}
	con_fd = fd;
}

static void
console_drop_client(int i)
{
	close(con_clients[i]);
	con_clients[i] = -1;
}

/* What the guest printed: to the log and to every attached client. */
static void
console_output(void)
{
	char buf[4096];
	ssize_t n;
	int i;

	for (;;) {
		n = read(con_fd, buf, sizeof(buf));
		if (n > 0) {
			console_log_write(buf, (size_t)n);
			for (i = 0; i < CONSOLE_CLIENTS; i++)
				if (con_clients[i] >= 0 && send(con_clients[i], buf, (size_t)n, MSG_NOSIGNAL) != n)
					console_drop_client(i);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		console_close_device();	/* the pair went away (bhyve gone), or an error: open it again later */
		return;
	}
}

static void
console_accept(void)
{
	int fd, i;

	while ((fd = accept(con_listen, NULL, NULL)) >= 0) {
		(void)set_flags(fd, FD_CLOEXEC, O_NONBLOCK);
		for (i = 0; i < CONSOLE_CLIENTS && con_clients[i] >= 0; i++)
			;
		if (i == CONSOLE_CLIENTS) {
			static const char busy[] = "bhyve-monitor: too many consoles attached\r\n";
			(void)send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		con_clients[i] = fd;
	}
}

/* What a client typed: the guest's input (dropped while the B side is not open). */
static void
console_input(int i)
{
	char buf[1024];
	ssize_t n = recv(con_clients[i], buf, sizeof(buf), 0);

	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
		console_drop_client(i);
		return;
	}
	if (n > 0 && con_fd >= 0)
		(void)write(con_fd, buf, (size_t)n);
}

static void
console_teardown(void)
{
	int i;

	for (i = 0; i < CONSOLE_CLIENTS; i++)
		if (con_clients[i] >= 0)
			console_drop_client(i);
	if (con_listen >= 0) {
		close(con_listen);
		(void)unlink(cfg.console_socket);
	}
	con_listen = -1;
	if (con_fd >= 0)
		close(con_fd);
	con_fd = -1;
}

/*
 * Waits for a signal, child output, console traffic or the end of the adopted process, up to
 * timeout_ms: WAIT_FOREVER, or a timeout from ms_until(), which is never negative. While the
 * console's B side is not open, the wait is at most CONSOLE_RETRY_MS, so that it is tried again.
 */
static void
wait_events(int timeout_ms)
{
	struct pollfd fds[5 + CONSOLE_CLIENTS];
	int slot[5 + CONSOLE_CLIENTS];
	nfds_t n = 2, k;
	int i;

	console_try_open();
	fds[0].fd = sig_pipe[0];
	fds[0].events = POLLIN;
	fds[1].fd = log_pipe[0];
	fds[1].events = POLLIN;
	if (adopted.fd >= 0 && !adopted.ended) {
		/* Only until its end is noted: a pidfd stays readable, which would spin the loop. */
		fds[n].fd = adopted.fd;
		fds[n].events = POLLIN;
		slot[n++] = -3;
	}
	if (con_fd >= 0) {
		fds[n].fd = con_fd;
		fds[n].events = POLLIN;
		slot[n++] = -1;
	}
	if (con_listen >= 0) {
		fds[n].fd = con_listen;
		fds[n].events = POLLIN;
		slot[n++] = -2;
	}
	for (i = 0; i < CONSOLE_CLIENTS; i++) {
		if (con_clients[i] < 0)
			continue;
		fds[n].fd = con_clients[i];
		fds[n].events = POLLIN;
		slot[n++] = i;
	}
	if (timeout_ms < 0 && timeout_ms != WAIT_FOREVER)
		timeout_ms = 0;
	if (console_enabled() && con_fd < 0 && (timeout_ms == WAIT_FOREVER || timeout_ms > CONSOLE_RETRY_MS))
		timeout_ms = CONSOLE_RETRY_MS;
	if (poll(fds, n, timeout_ms) > 0) {
		if (fds[1].revents & POLLIN)
			drain_log();
		if (fds[0].revents & POLLIN)
			drain_signals();
		for (k = 2; k < n; k++) {
			if (fds[k].revents == 0)
				continue;
			if (slot[k] == -3) {
				adopt_poll();
			} else if (slot[k] == -1) {
				if (con_fd >= 0)
					console_output();
			} else if (slot[k] == -2) {
				console_accept();
			} else if (con_clients[slot[k]] >= 0) {
				console_input(slot[k]);
			}
		}
	}
}

/*
 * Runs a helper command (bhyveload, bhyvectl) to completion, killing it after helper_timeout_ms.
 * Returns its wait status, or -1 when it could not be started.
 */
static int
run_helper(struct argvec *av, const char *what)
{
	pid_t pid = spawn(av);
	long deadline = deadline_after(now_ms(), cfg.helper_timeout_ms);
	int status, t;
	pid_t r;

	if (pid < 0) {
		event(what, "error=\"fork: %s\"", strerror(errno));
		return -1;
	}
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ms() >= deadline) {
			kill(pid, SIGKILL);
			log_note("%s did not finish within %ld ms; killed", what, cfg.helper_timeout_ms);
			deadline = deadline_after(now_ms(), 60000);
		}
		t = ms_until(deadline, now_ms());
		wait_events(t < 50 ? t : 50);
	}
	drain_log();
	if (WIFEXITED(status))
		event(what, "pid=%ld code=%d", (long)pid, WEXITSTATUS(status));
	else
		event(what, "pid=%ld signal=%s", (long)pid, signame(WTERMSIG(status)));
	return status;
}

/* True when a helper that must succeed before bhyve runs (prestart, bhyveload) failed; records how. */
static int
helper_failed(int status)
{
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	st.last_code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	st.last_signal = status != -1 && WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	iso_now(st.last_at, sizeof(st.last_at));
	return 1;
}

/* True when something exists at vm_dev (or it cannot be told: then it counts as there). */
static int
vm_exists(void)
{
	struct stat sb;

	return lstat(cfg.vm_dev, &sb) == 0 || errno != ENOENT;
}

/* True when the owner file is there: the VM at vm_dev, if any, is this guest's. */
static int
vm_owned(void)
{
	struct stat sb;

	return lstat(cfg.owner_file, &sb) == 0 && S_ISREG(sb.st_mode);
}

enum claim { CLAIM_OK, CLAIM_FOREIGN, CLAIM_ERROR };

/* Writes the owner file: name, creation time, and the pid of an adopted bhyve (adopted_pid > 0). */
static int
write_owner_file(pid_t adopted_pid)
{
	char buf[sizeof(cfg.name) + 96], stamp[32];
	int n;

	iso_now(stamp, sizeof(stamp));
	n = snprintf(buf, sizeof(buf), "name=%s\ncreated=%s\n", cfg.name, stamp);
	if (adopted_pid > 0)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "adopted_pid=%ld\n", (long)adopted_pid);
	return write_atomic(cfg.owner_file, buf, (size_t)n, 0644);
}

/*
 * Before anything creates or touches the VM: with the owner file there the VM is ours; a VM without
 * it belongs to someone else; with neither, the owner file is written (so that the VM bhyveload or
 * bhyve creates next is marked as ours). CLAIM_ERROR leaves errno set.
 */
static enum claim
claim_vm(void)
{
	if (vm_owned())
		return CLAIM_OK;
	if (vm_exists())
		return CLAIM_FOREIGN;
	return write_owner_file(0) == 0 ? CLAIM_OK : CLAIM_ERROR;
}

/*
 * -a: the one deliberate exception to "a VM without the owner file is someone else's". The caller
 * has identified the adopted process as the bhyve of the VM at vm_dev and hands that VM over, so
 * the owner file is written (with adopted_pid) although the VM exists. An owner file already there
 * says the VM was the agent's before; it is kept as it is.
 */
static enum claim
claim_adopted(void)
{
	if (vm_owned())
		return CLAIM_OK;
	if (write_owner_file(adopted.pid) != 0)
		return CLAIM_ERROR;
	adopted.owner_written = 1;
	return CLAIM_OK;
}

/* Undoes claim_adopted() when the monitor fails before it watches: the VM is left as it was found. */
static void
unclaim_adopted(void)
{
	if (adopted.owner_written)
		(void)unlink(cfg.owner_file);
	adopted.owner_written = 0;
}

/* Says, in the guest log and the events, that the VM is someone else's. */
static void
report_foreign_vm(void)
{
	log_note(FOREIGN_VM_MSG, cfg.name);
	event("foreign-vm", "vm_dev=%s", cfg.vm_dev);
}

/*
 * Runs the destroy command, only while the owner file marks the VM as ours. The final destroy
 * (when the monitor stops for good) removes the owner file once no VM is left.
 */
static void
destroy_vm(int final)
{
	if (!vm_owned()) {
		if (vm_exists())
			log_note("not destroying VM %s: %s is missing, so it is not this guest's", cfg.name, cfg.owner_file);
		return;
	}
	run_helper(&destroy_cmd, "destroy");
	if (final && !vm_exists() && unlink(cfg.owner_file) != 0 && errno != ENOENT)
		log_note("cannot remove %s: %s", cfg.owner_file, strerror(errno));
}

/* True once the bhyve being supervised has ended, with its wait status (see supervise()). */
static int
bhyve_ended(pid_t pid, int adopted_run, int *status)
{
	pid_t r;

	if (adopted_run) {
		adopt_poll();
		*status = adopted.status;
		return adopted.ended;
	}
	r = waitpid(pid, status, WNOHANG);
	if (r == pid)
		return 1;
	if (r < 0 && errno != EINTR) {
		*status = -1;
		return 1;
	}
	return 0;
}

static void
bhyve_signal(pid_t pid, int adopted_run, int sig)
{
	if (adopted_run)
		adopt_signal(sig);
	else
		kill(pid, sig);
}

/*
 * Supervises a running bhyve until it ends: the monitor's own child, or (adopted_run) the adopted
 * process, alike. Handles SIGTERM (power button, then force-poweroff, then SIGKILL) and records the
 * exit. Returns the wait status, -1 when it could not be waited for, STATUS_UNKNOWN when it ended
 * in a way that cannot be read.
 */
static int
supervise(pid_t pid, int adopted_run, long *ran_ms, int *vm_seen)
{
	long started = now_ms(), deadline = -1;
	int status, stage = 0;	/* 0 running, 1 power button sent, 2 force-poweroff sent, 3 killed */
	char started_iso[32], ended_iso[32];

	iso_now(started_iso, sizeof(started_iso));
	st.bhyve_pid = pid;
	copy_str(st.started_at, sizeof(st.started_at), started_iso);
	set_state("running", "");
	for (;;) {
		/* Whether bhyve got as far as its VM: only then can the VM be destroyed under it. */
		if (!*vm_seen)
			*vm_seen = vm_exists();
		if (bhyve_ended(pid, adopted_run, &status))
			break;
		if (stop_requested && stage == 0) {
			bhyve_signal(pid, adopted_run, SIGTERM);
			event("stop", "pid=%ld action=acpi-poweroff timeout_ms=%ld", (long)pid, cfg.stop_timeout_ms);
			set_state("stopping", "requested");
			stage = 1;
			deadline = deadline_after(now_ms(), cfg.stop_timeout_ms);
		} else if (stage == 1 && now_ms() >= deadline) {
			event("stop", "pid=%ld action=force-poweroff", (long)pid);
			run_helper(&poweroff_cmd, "poweroff");
			stage = 2;
			deadline = deadline_after(now_ms(), cfg.kill_timeout_ms);
		} else if (stage == 2 && now_ms() >= deadline) {
			event("stop", "pid=%ld action=kill", (long)pid);
			bhyve_signal(pid, adopted_run, SIGKILL);
			stage = 3;
			deadline = -1;
		}
		if (deadline >= 0)
			wait_events(ms_until(deadline, now_ms()));
		else
			wait_events(stop_requested && stage == 0 ? 0 : !*vm_seen ? VM_SEEN_POLL_MS : WAIT_FOREVER);
	}
	drain_log();
	*ran_ms = now_ms() - started;
	iso_now(ended_iso, sizeof(ended_iso));
	st.bhyve_pid = 0;
	copy_str(st.last_at, sizeof(st.last_at), ended_iso);
	if (status == STATUS_UNKNOWN) {
		st.last_code = -1;
		st.last_signal = 0;
		event("exit", "pid=%ld code=unknown started=%s ended=%s", (long)pid, started_iso, ended_iso);
	} else if (status != -1 && WIFEXITED(status)) {
		st.last_code = WEXITSTATUS(status);
		st.last_signal = 0;
		event("exit", "pid=%ld code=%d started=%s ended=%s", (long)pid, st.last_code, started_iso, ended_iso);
	} else if (status != -1) {
		st.last_code = -1;
		st.last_signal = WTERMSIG(status);
		event("exit", "pid=%ld signal=%s started=%s ended=%s", (long)pid, signame(st.last_signal), started_iso, ended_iso);
	}
	return status;
}

/* Runs bhyve from the spec until it exits (see supervise()). */
static int
run_bhyve(long *ran_ms, int *vm_seen)
{
	pid_t pid = spawn(&bhyve_cmd);

	if (pid < 0) {
		event("start", "error=\"fork: %s\"", strerror(errno));
		return -1;
	}
	event("start", "pid=%ld restarts=%ld", (long)pid, st.restarts);
	*vm_seen = 0;
	return supervise(pid, 0, ran_ms, vm_seen);
}

/*
 * Supervises the adopted bhyve until it ends, as its own (see supervise()). Its VM existed when it
 * was adopted, so a VM gone after it ended was destroyed under it. Its output is not the monitor's
 * to log: it went wherever whoever started it sent it.
 */
static int
run_adopted(long *ran_ms, int *vm_seen)
{
	pid_t pid = adopted.pid;
	int status;

	event("adopt", "pid=%ld", (long)pid);
	log_note("adopted pid %ld, the running bhyve of VM %s; its output does not come to this log", (long)pid, cfg.name);
	*vm_seen = 1;
	status = supervise(pid, 1, ran_ms, vm_seen);
	adopt_release();
	return status;
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
}

/*
 * Locks run_dir/monitor.pid; a second monitor for the same guest is refused. A reader that probes
 * the lock (the agent takes a shared lock for an instant to tell a stale file from a live one) can
 * hold it for a moment, so a refusal is only final after a few tries. The file is emptied as soon
 * as the lock is ours: a pid left in it by a monitor that was killed must not be read as ours.
 */
static int
lock_pidfile(void)
{
	char buf[32];
	ssize_t n;
	int tries;

	pid_fd = open(pid_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (pid_fd < 0) {
		fprintf(stderr, "bhyve-monitor: %s: %s\n", pid_path, strerror(errno));
		return EX_OSERR;
	}
	for (tries = 0; flock(pid_fd, LOCK_EX | LOCK_NB) != 0; tries++) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			fprintf(stderr, "bhyve-monitor: %s: flock: %s\n", pid_path, strerror(errno));
			return EX_OSERR;
		}
		if (tries < 10) {
			(void)poll(NULL, 0, 10);
			continue;
		}
		n = pread(pid_fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		fprintf(stderr, "bhyve-monitor: guest %s is already monitored (pid %s)\n", cfg.name, buf);
		return EX_TEMPFAIL;
	}
	if (ftruncate(pid_fd, 0) != 0) {
		fprintf(stderr, "bhyve-monitor: %s: %s\n", pid_path, strerror(errno));
		return EX_OSERR;
	}
	return 0;
}

static void
write_pidfile(void)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(pid_fd, 0) == 0)
		(void)pwrite(pid_fd, buf, (size_t)n, 0);
	fsync(pid_fd);
}

/*
 * Detaches from the caller: a new session, no controlling terminal, not a child of the agent.
 * The caller gets its exit status only once the daemon has written its pid file: 0 when the daemon
 * said it is ready, otherwise (the pipe reached its end first) a failure, with the intermediate
 * child's exit status when that one failed.
 */
static int
daemonize(void)
{
	int ready[2], devnull, status = 0;
	pid_t pid;
	ssize_t n;
	char c = '\0';

	if (pipe(ready) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(ready[1]);
		do
			n = read(ready[0], &c, 1);
		while (n < 0 && errno == EINTR);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (n == 1 && c == 'R')
			_exit(0);
		if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
			fprintf(stderr, "bhyve-monitor: could not detach (exit %d)\n", WEXITSTATUS(status));
			_exit(WEXITSTATUS(status));
		}
		fprintf(stderr, "bhyve-monitor: the monitor of guest %s ended before it was ready\n", cfg.name);
		_exit(EX_OSERR);
	}
	close(ready[0]);
	if (setsid() < 0)
		_exit(EX_OSERR);
	pid = fork();
	if (pid < 0)
		_exit(EX_OSERR);
	if (pid > 0)
		_exit(0);
	if (chdir("/") != 0)
		_exit(EX_OSERR);
	devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		if (devnull > STDERR_FILENO)
			close(devnull);
	}
	write_pidfile();
	/* The adopted process is watched before the caller hears "ready", so that its end is never missed. */
	if (adopted.pid > 0 && adopt_watch_after_fork() != 0) {
		log_note("cannot watch pid %ld: %s; not adopting it", (long)adopted.pid, strerror(errno));
		unclaim_adopted();
		unlink(pid_path);
		_exit(EX_OSERR);
	}
	c = 'R';
	(void)write_all(ready[1], &c, 1);
	close(ready[1]);
	return 0;
}

/* Makes a directory the monitor needs when it is missing (its parent must exist). */
static int
ensure_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	fprintf(stderr, "bhyve-monitor: cannot create %s: %s\n", path, strerror(errno));
	return -1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bhyve-monitor [-f] [-n] [-a PID] SPECDIR\n");
	exit(EX_USAGE);
}

/*
 * -a, before anything is claimed: the VM must exist, and the process must be running; its watch
 * starts here, so that an end from now on is seen. 0, or the exit status of the refusal.
 */
static int
adopt_check(void)
{
	struct stat sb;

	if (lstat(cfg.vm_dev, &sb) != 0) {
		fprintf(stderr, "bhyve-monitor: cannot adopt pid %ld: no VM %s (%s: %s)\n",
		    (long)adopted.pid, cfg.name, cfg.vm_dev, strerror(errno));
		return EX_NOINPUT;
	}
	if (adopt_watch() != 0) {
		if (errno == ESRCH || errno == EINVAL) {
			fprintf(stderr, "bhyve-monitor: cannot adopt pid %ld: no such process\n", (long)adopted.pid);
			return EX_NOINPUT;
		}
		fprintf(stderr, "bhyve-monitor: cannot adopt pid %ld: cannot watch a process this monitor did not start: %s\n",
		    (long)adopted.pid, strerror(errno));
		return EX_OSERR;
	}
	adopt_poll();
	if (adopted.ended) {
		fprintf(stderr, "bhyve-monitor: cannot adopt pid %ld: it has ended\n", (long)adopted.pid);
		adopt_release();
		return EX_NOINPUT;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *spec;
	int foreground = 0, prestart_done = 0, skip_prestart, ch, rc, status;
	long failures[MAX_FAILURES], ran_ms = 0, backoff, now, end;
	long pid_arg;
	int nfail = 0, i, j, vm_seen = 0;
	const char *final_state = "stopped", *final_reason = "";
	char log_dir[PATH_MAX], *slash;
	struct decision d;

	/* Nothing inherited but 0-2 and PATH/locale, before anything else is opened or run. */
	close_from(STDERR_FILENO + 1);
	standard_fds();
	clean_environment();

	while ((ch = getopt(argc, argv, "fna:")) != -1) {
		if (ch == 'f') {
			foreground = 1;
		} else if (ch == 'n') {
			prestart_done = 1;
		} else if (ch == 'a') {
			/* Never 0 or 1: kill(2) reads 0 as the process group, and 1 is init, never a bhyve. */
			if (parse_long(optarg, &pid_arg) != 0 || pid_arg < 2 || (long)(pid_t)pid_arg != pid_arg) {
				fprintf(stderr, "bhyve-monitor: -a %s: expected the pid of a bhyve process\n", optarg);
				return EX_USAGE;
			}
			adopted.pid = (pid_t)pid_arg;
		} else {
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	spec = argv[optind];
	if (read_config(spec) != 0) {
		fprintf(stderr, "bhyve-monitor: %s/monitor.conf: %s\n", spec, conf_problem[0] != '\0' ? conf_problem : strerror(errno));
		return EX_DATAERR;
	}
	if (read_argv(spec, "bhyve.argv", &bhyve_cmd) != 0 ||
	    read_argv(spec, "destroy.argv", &destroy_cmd) != 0 ||
	    read_argv(spec, "poweroff.argv", &poweroff_cmd) != 0) {
		fprintf(stderr, "bhyve-monitor: %s: an argv file is missing or not NUL-separated with an absolute program path: %s\n",
		    spec, strerror(errno));
		return EX_DATAERR;
	}
	have_load = read_argv(spec, "bhyveload.argv", &load_cmd) == 0;
	if (!have_load && errno != ENOENT) {
		fprintf(stderr, "bhyve-monitor: %s/bhyveload.argv: %s\n", spec, strerror(errno));
		return EX_DATAERR;
	}
	have_prestart = read_argv(spec, "prestart.argv", &prestart_cmd) == 0;
	if (!have_prestart && errno != ENOENT) {
		fprintf(stderr, "bhyve-monitor: %s/prestart.argv: %s\n", spec, strerror(errno));
		return EX_DATAERR;
	}
	if (snprintf(pid_path, sizeof(pid_path), "%s/monitor.pid", cfg.run_dir) >= (int)sizeof(pid_path) ||
	    snprintf(status_path, sizeof(status_path), "%s/status", cfg.run_dir) >= (int)sizeof(status_path) ||
	    snprintf(events_path, sizeof(events_path), "%s/events", cfg.run_dir) >= (int)sizeof(events_path)) {
		fprintf(stderr, "bhyve-monitor: %s/monitor.conf: run_dir: too long\n", spec);
		return EX_DATAERR;
	}
	copy_str(log_dir, sizeof(log_dir), cfg.log_file);
	slash = strrchr(log_dir, '/');
	if (slash != NULL && slash != log_dir)
		*slash = '\0';
	if (ensure_dir(cfg.run_dir, 0700) != 0 || (slash != log_dir && ensure_dir(log_dir, 0750) != 0))
		return EX_OSERR;
	if ((rc = lock_pidfile()) != 0)
		return rc;
	if (adopted.pid > 0 && (rc = adopt_check()) != 0) {
		unlink(pid_path);
		return rc;
	}
	log_fd = open(cfg.log_file, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
	events_fd = open(events_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (log_fd < 0 || events_fd < 0) {
		fprintf(stderr, "bhyve-monitor: cannot open the log or events file: %s\n", strerror(errno));
		unlink(pid_path);
		return EX_OSERR;
	}
	/* Whose VM is it? Decided here, before detaching, so that the caller gets the answer. */
	switch (adopted.pid > 0 ? claim_adopted() : claim_vm()) {
	case CLAIM_OK:
		break;
	case CLAIM_FOREIGN:
		fprintf(stderr, "bhyve-monitor: " FOREIGN_VM_MSG "\n", cfg.name);
		report_foreign_vm();
		event("monitor-exit", "state=stopped reason=foreign-vm");
		set_state("stopped", "foreign-vm");
		unlink(pid_path);
		return EX_CONFIG;
	case CLAIM_ERROR:
		fprintf(stderr, "bhyve-monitor: cannot write %s: %s\n", cfg.owner_file, strerror(errno));
		unlink(pid_path);
		return EX_CANTCREAT;
	}
	if (pipe(sig_pipe) != 0 || pipe(log_pipe) != 0 ||
	    set_flags(sig_pipe[0], FD_CLOEXEC, O_NONBLOCK) != 0 || set_flags(sig_pipe[1], FD_CLOEXEC, O_NONBLOCK) != 0 ||
	    set_flags(log_pipe[0], FD_CLOEXEC, O_NONBLOCK) != 0 || set_flags(log_pipe[1], FD_CLOEXEC, 0) != 0) {
		fprintf(stderr, "bhyve-monitor: pipe: %s\n", strerror(errno));
		unclaim_adopted();
		unlink(pid_path);
		return EX_OSERR;
	}
	/*
	 * What runs is on record before the caller hears that the monitor is ready: the agent compares
	 * it with the spec right after (an adopted guest's converge goes on at once, and a file missing
	 * then would read as a changed configuration).
	 */
	write_running_argv();
	if (!foreground && daemonize() != 0) {
		fprintf(stderr, "bhyve-monitor: cannot detach: %s\n", strerror(errno));
		unclaim_adopted();
		unlink(pid_path);
		return EX_OSERR;
	}
	if (foreground)
		write_pidfile();
#ifdef __FreeBSD__
	setproctitle("%s", cfg.name);
#endif
	install_signals();
	console_setup();
	event("monitor-start", "monitor_pid=%ld restart=%s", (long)getpid(), cfg.restart);
	set_state("starting", "");

	/* The adopted bhyve is supervised even when a stop came first: it gets the power button, as any. */
	while (adopted.pid > 0 || !stop_requested) {
		if (adopted.pid > 0) {
			status = run_adopted(&ran_ms, &vm_seen);
			goto ended;
		}
		/* Checked again before each run: the VM may have been replaced while none ran. */
		switch (claim_vm()) {
		case CLAIM_OK:
			break;
		case CLAIM_FOREIGN:
			report_foreign_vm();
			final_reason = "foreign-vm";
			goto done;
		case CLAIM_ERROR:
			log_note("cannot write %s: %s", cfg.owner_file, strerror(errno));
			event("owner-file", "error=\"%s\"", strerror(errno));
			final_reason = "error";
			goto done;
		}
		if (vm_exists())
			destroy_vm(0);	/* a stale VM of this guest: bhyve would reuse it */
		skip_prestart = prestart_done;
		prestart_done = 0;	/* only the first start was prepared by the caller */
		if ((have_prestart && !skip_prestart && !stop_requested && helper_failed(run_helper(&prestart_cmd, "prestart"))) ||
		    (have_load && !stop_requested && helper_failed(run_helper(&load_cmd, "bhyveload")))) {
			ran_ms = 0;
			goto failed;
		}
		if (stop_requested)
			break;
		status = run_bhyve(&ran_ms, &vm_seen);
ended:
		if (stop_requested) {
			final_reason = "requested";
			break;
		}
		/* Fail closed: a guest whose last run cannot be read is not started again (a converge may). */
		if (status == STATUS_UNKNOWN) {
			final_reason = "exit-unknown";
			goto done;
		}
		d = decide(status != -1 && WIFEXITED(status), status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1, vm_seen && !vm_exists(), cfg.restart);
		if (d.next == NEXT_RESTART) {
			st.restarts++;
			event("restart", "reason=%s", d.reason);
			continue;
		}
		if (d.next == NEXT_STOP) {
			final_reason = d.reason;
			goto done;
		}
failed:
		final_reason = st.last_signal ? "signal" : st.last_code == 3 ? "triple-fault" : "error";
		if (strcmp(cfg.restart, "always") != 0)
			break;
		now = now_ms();
		failures[nfail % MAX_FAILURES] = now;
		nfail++;
		for (i = 0, j = 0; i < nfail && i < MAX_FAILURES; i++)
			if (cfg.crash_window_s > LONG_MAX / 1000 || now - failures[i] <= cfg.crash_window_s * 1000)
				j++;
		if (j >= cfg.crash_limit) {
			final_state = "crashed";
			final_reason = "crash-loop";
			event("crash-loop", "failures=%d window_s=%ld", j, cfg.crash_window_s);
			break;
		}
		backoff = backoff_ms(j, cfg.backoff_initial_ms, cfg.backoff_max_ms);
		event("backoff", "delay_ms=%ld failures=%d ran_ms=%ld", backoff, j, ran_ms);
		set_state("backoff", final_reason);
		for (end = deadline_after(now_ms(), backoff); !stop_requested && now_ms() < end;)
			wait_events(ms_until(end, now_ms()));
		if (stop_requested) {
			final_reason = "requested";
			break;
		}
		st.restarts++;
		event("restart", "reason=%s", st.last_signal ? "signal" : "error");
	}
	if (stop_requested && final_reason[0] == '\0')
		final_reason = "requested";
done:
	set_state("stopping", final_reason);
	destroy_vm(1);
	drain_log();
	event("monitor-exit", "state=%s reason=%s", final_state, final_reason);
	set_state(final_state, final_reason);
	console_teardown();
	unlink(pid_path);
	return strcmp(final_reason, "foreign-vm") == 0 ? EX_CONFIG : 0;
}
