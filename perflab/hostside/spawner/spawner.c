/* perflab's spawner: a tiny static process that starts the benchmark's steps, so that
 * a step's max RSS is its own (Linux keeps, across exec, the peak RSS of the memory the
 * exec replaced: a step spawned from the Python harness starts with the harness's ~13
 * MiB as its peak; one spawned from this process starts with this process's few KiB).
 *
 * No libc: raw x86-64 system calls, built with build.sh into spawner-x86_64.bin, which
 * the harness embeds (hostside/spawn.py, SPAWNER_X86_64) and runs from a memfd.
 *
 * File descriptors when started: 0 requests (pipe from the harness), 1 replies (pipe to
 * it), 3 the steps' stdin (/dev/null), 4 and 5 the stdout and stderr logs.
 *
 * Request: u32 length, then that many bytes: u32 argc, u32 envc, then argc + envc + 1
 * NUL-terminated strings: the program's path, argv[0..argc-1], envp[0..envc-1].
 * Reply: i32 pid (or -errno if it could not start), then, if started, i32 wait status
 * and the 144-byte struct rusage of the step (wait4). EOF on 0: exit 0.
 *
 * The step runs in a process group of its own, with SIGHUP, SIGINT, SIGQUIT, SIGTERM,
 * SIGALRM and SIGPIPE at their default actions, fds 0-2 from 3-5. */

typedef unsigned long u64;
typedef long i64;

static i64 sys(i64 n, i64 a, i64 b, i64 c, i64 d) {
    i64 ret;
    register i64 r10 __asm__("r10") = d;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
}

enum { READ = 0, WRITE = 1, CLOSE = 3, RT_SIGACTION = 13, DUP2 = 33, VFORK = 58,
       EXECVE = 59, EXIT = 60, WAIT4 = 61, SETPGID = 109 };
enum { BUF = 1 << 22, MAXPTR = 1 << 16 };

static char buf[BUF];
static char *ptrs[MAXPTR];
static volatile i64 child_error;

static int read_all(char *to, u64 n) {
    while (n) {
        i64 got = sys(READ, 0, (i64)to, (i64)n, 0);
        if (got == -4) continue; /* EINTR */
        if (got <= 0) return 0;
        to += got; n -= (u64)got;
    }
    return 1;
}

static void write_all(const char *from, u64 n) {
    while (n) {
        i64 put = sys(WRITE, 1, (i64)from, (i64)n, 0);
        if (put == -4) continue;
        if (put <= 0) sys(EXIT, 1, 0, 0, 0);
        from += put; n -= (u64)put;
    }
}

/* SIGHUP, SIGINT, SIGQUIT, SIGTERM: ignored by the spawner (a Ctrl-C or a SIGTERM to the
 * harness's process group is the harness's to handle: it kills the step and reads the
 * reply); back at their defaults in a step, with SIGPIPE and SIGALRM */
static const int ignored[] = {1, 2, 3, 15};
static const int reset[] = {1, 2, 3, 15, 13, 14};

static void set_all(const int *sigs, int n, u64 handler) {
    /* struct kernel_sigaction: handler, flags, restorer, mask (8 bytes) */
    u64 act[4] = {handler, 0, 0, 0};
    for (int i = 0; i < n; i++) sys(RT_SIGACTION, sigs[i], (i64)act, 0, 8);
}

__attribute__((noreturn, noinline)) static void child(char *path, char **argv, char **envp) {
    sys(SETPGID, 0, 0, 0, 0);
    set_all(reset, 6, 0);
    sys(DUP2, 3, 0, 0, 0); sys(DUP2, 4, 1, 0, 0); sys(DUP2, 5, 2, 0, 0);
    sys(CLOSE, 3, 0, 0, 0); sys(CLOSE, 4, 0, 0, 0); sys(CLOSE, 5, 0, 0, 0);
    child_error = sys(EXECVE, (i64)path, (i64)argv, (i64)envp, 0);
    sys(EXIT, 127, 0, 0, 0);
    __builtin_unreachable();
}

static void serve(void) {
    unsigned int len;
    while (read_all((char *)&len, 4)) {
        if (len >= BUF || !read_all(buf, len)) sys(EXIT, 2, 0, 0, 0);
        unsigned int argc = ((unsigned int *)buf)[0], envc = ((unsigned int *)buf)[1];
        if (argc + envc + 3 > MAXPTR) sys(EXIT, 2, 0, 0, 0);
        char *at = buf + 8, *end = buf + len;
        char *path = at;
        while (at < end && *at) at++;
        at++;
        unsigned int k = 0;
        for (unsigned int i = 0; i < argc + envc; i++) {
            if (i == argc) ptrs[k++] = 0;
            ptrs[k++] = at;
            while (at < end && *at) at++;
            at++;
        }
        if (argc + envc == argc) ptrs[k++] = 0;
        ptrs[k] = 0;
        child_error = 0;
        int reply[2 + 36];
        i64 pid = sys(VFORK, 0, 0, 0, 0);
        if (pid == 0) child(path, ptrs, ptrs + argc + 1);
        if (pid < 0 || child_error) { /* vfork failed, or exec did: the child is exiting */
            if (pid > 0) { int st; sys(WAIT4, pid, (i64)&st, 0, 0); }
            reply[0] = pid < 0 ? (int)pid : (int)child_error;
            write_all((char *)reply, 4);
            continue;
        }
        reply[0] = (int)pid;
        write_all((char *)reply, 4);
        i64 got;
        do got = sys(WAIT4, pid, (i64)&reply[1], 0, (i64)&reply[2]);
        while (got == -4);
        write_all((char *)&reply[1], 4 + 144);
    }
}

void _start(void) {
    set_all(ignored, 4, 1); /* SIG_IGN */
    serve();
    sys(EXIT, 0, 0, 0, 0);
}
