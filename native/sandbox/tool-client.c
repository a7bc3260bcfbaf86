/*
 * The #! interpreter of a sandbox host's simulated tools (tests and benchmarks only; never
 * installed on a host). A tool file reads `#!CLIENT NODE SCRIPT`, so the kernel runs
 *
 *     CLIENT "NODE SCRIPT" TOOLPATH ARGS...      (Linux: the rest of the #! line is one argument)
 *     CLIENT NODE SCRIPT TOOLPATH ARGS...        (FreeBSD splits it at blanks)
 *
 * When the sandbox root of TOOLPATH has a tool server listening on ROOT/var/sandbox/tools.sock,
 * the run is handed to it (argv and BLOCKSIZE out; stdout, stderr and the exit status back), which
 * costs a round trip instead of a node start-up. Otherwise, and always for bhyve (a VM is a process
 * of its own, which the monitor waits for), it becomes `NODE SCRIPT TOOLPATH ARGS...` by execv,
 * keeping its pid: the tool runs exactly as without the client.
 *
 * Wire format, all integers 32-bit big-endian:
 *   request:  length, then NUL-terminated fields: "BLOCKSIZE=..." (or ""), TOOLPATH, ARGS...
 *   answer:   frames of a type byte and a length: 'o' stdout bytes, 'e' stderr bytes, 'x' a 4-byte
 *             exit status (last). A connection closed before 'x' is a failure (exit 71).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define EX_SOFTWARE 71

static int write_all(int fd, const void *buf, size_t n) {
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t n) {
	char *p = buf;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static uint32_t be32(const unsigned char *b) {
	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

/* Connects to DIR/var/sandbox/tools.sock; -1 when there is no server there. */
static int connect_server(const char *dir, size_t dirlen) {
	static const char tail[] = "/var/sandbox/tools.sock";
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (dirlen + sizeof(tail) > sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, dir, dirlen);
	memcpy(sa.sun_path + dirlen, tail, sizeof(tail));
	if (access(sa.sun_path, F_OK) != 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The sandbox root is two or three levels above the tool (sbin/X, usr/sbin/X). */
static int find_server(const char *tool) {
	size_t len = strlen(tool);
	int levels = 0;
	for (size_t i = len; i > 0; i--) {
		if (tool[i - 1] != '/')
			continue;
		levels++;
		if (levels >= 2) {
			int fd = connect_server(tool, i - 1);
			if (fd >= 0)
				return fd;
		}
		if (levels == 3)
			break;
	}
	return -1;
}

static int run_on_server(int fd, int argc, char **argv, int first) {
	const char *bs = getenv("BLOCKSIZE");
	size_t size = (bs ? strlen("BLOCKSIZE=") + strlen(bs) : 0) + 1;
	for (int i = first; i < argc; i++)
		size += strlen(argv[i]) + 1;
	if (size > (1u << 24))
		return -1;
	unsigned char *req = malloc(4 + size);
	if (req == NULL)
		return -1;
	req[0] = (unsigned char)(size >> 24);
	req[1] = (unsigned char)(size >> 16);
	req[2] = (unsigned char)(size >> 8);
	req[3] = (unsigned char)size;
	size_t off = 4;
	if (bs) {
		off += (size_t)sprintf((char *)req + off, "BLOCKSIZE=%s", bs);
	}
	req[off++] = '\0';
	for (int i = first; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;
		memcpy(req + off, argv[i], n);
		off += n;
	}
	int rc = write_all(fd, req, off);
	free(req);
	if (rc != 0)
		return -1;
	for (;;) {
		unsigned char head[5];
		if (read_all(fd, head, sizeof(head)) != 0) {
			fprintf(stderr, "sandbox tool server: the connection closed before the tool's exit status\n");
			return EX_SOFTWARE;
		}
		uint32_t n = be32(head + 1);
		if (head[0] == 'x') {
			unsigned char st[4];
			if (n != 4 || read_all(fd, st, 4) != 0)
				return EX_SOFTWARE;
			return (int)(be32(st) & 0xff);
		}
		char buf[8192];
		int out = head[0] == 'o' ? STDOUT_FILENO : STDERR_FILENO;
		while (n > 0) {
			size_t chunk = n < sizeof(buf) ? n : sizeof(buf);
			if (read_all(fd, buf, chunk) != 0)
				return EX_SOFTWARE;
			(void)write_all(out, buf, chunk);
			n -= (uint32_t)chunk;
		}
	}
}

int main(int argc, char **argv) {
	/* NODE and SCRIPT: one argument "NODE SCRIPT" (Linux) or two (FreeBSD). */
	char *node, *script;
	int first;
	char *space = argc > 1 ? strchr(argv[1], ' ') : NULL;
	if (space != NULL) {
		*space = '\0';
		node = argv[1];
		script = space + 1;
		first = 2;
	} else if (argc > 2) {
		node = argv[1];
		script = argv[2];
		first = 3;
	} else {
		fprintf(stderr, "sandbox-tool-client: run as the #! interpreter of a sandbox tool\n");
		return 64;
	}
	if (first >= argc) {
		fprintf(stderr, "sandbox-tool-client: no tool path\n");
		return 64;
	}
	const char *tool = argv[first];
	const char *base = strrchr(tool, '/');
	base = base ? base + 1 : tool;
	if (strcmp(base, "bhyve") != 0) {
		int fd = find_server(tool);
		if (fd >= 0) {
			int rc = run_on_server(fd, argc, argv, first);
			close(fd);
			if (rc >= 0)
				return rc;
			/* The request could not be sent: nothing ran, so run the tool here. */
		}
	}
	char **nargv = calloc((size_t)(argc - first) + 3, sizeof(char *));
	if (nargv == NULL)
		return EX_SOFTWARE;
	nargv[0] = node;
	nargv[1] = script;
	for (int i = first; i < argc; i++)
		nargv[2 + i - first] = argv[i];
	execv(node, nargv);
	fprintf(stderr, "sandbox-tool-client: cannot run %s: %s\n", node, strerror(errno));
	return EX_SOFTWARE;
}
