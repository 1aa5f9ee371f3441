// A libFuzzer front end for a .NET program that calls SharpFuzz's Fuzzer.LibFuzzer.Run.
//
// libFuzzer drives in-process code; the code under test here runs in a .NET process. This program is the libFuzzer
// target: at start-up it launches the .NET program as a child and speaks the IPC that SharpFuzz's LibFuzzer.Run
// expects, and for every input it hands the bytes over, waits for the verdict and feeds the child's branch coverage
// back to libFuzzer as extra counters.
//
// The IPC, fixed by SharpFuzz:
//   - one System V shared memory segment: a 64 KiB coverage map (SharpFuzz's instrumentation bumps
//     map[current_branch ^ previous_branch]), followed by a 1 MiB input area;
//   - its id in __LIBFUZZER_SHM_ID; the child reads input lengths (int32) from the control pipe, whose fd is in
//     __LIBFUZZER_CONTROL_PIPE_ID, and writes an int32 status to the status pipe (__LIBFUZZER_STATUS_PIPE_ID): one
//     status once ready, then one per input, non-zero when the input made the code throw.
//
// Usage: sharpfuzz-libfuzzer [libFuzzer flags] [corpus dirs] --target=PROGRAM [--target-arg=ARG]...
// (libFuzzer ignores flags that start with "--", which is how these two reach this program.)
//
// Beyond the bare protocol: the child dies with this process (PR_SET_PDEATHSIG), so a libFuzzer timeout or crash
// exit never leaves a .NET process behind; the segment is marked for removal as soon as both sides have attached;
// and a child that dies mid-input (stack overflow, fail-fast, the GC heap limit) is reported as a crash of that
// input, so libFuzzer saves it as a reproducer instead of stopping without one.

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
    COVERAGE_SIZE = 1 << 16,
    INPUT_AREA_SIZE = 1 << 20,
    CONTROL_FD = 198,
    STATUS_FD = 199,
    MAX_TARGET_ARGS = 32,
};

// libFuzzer reads this section as additional coverage counters after each input. Not static: the compiler would
// drop stores to an array nothing in this file reads.
__attribute__((used, section("__libfuzzer_extra_counters"))) uint8_t coverage_counters[COVERAGE_SIZE];

static uint8_t *shared;          // coverage map, then the input area
static int control_fd = -1;      // we write input lengths
static int status_fd = -1;       // we read verdicts
static pid_t child = -1;

static void fail(const char *what) {
    fprintf(stderr, "sharpfuzz-libfuzzer: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int io_exact(int fd, void *buffer, size_t length, int writing) {
    uint8_t *bytes = buffer;
    size_t done = 0;
    while (done < length) {
        ssize_t n = writing ? write(fd, bytes + done, length - done) : read(fd, bytes + done, length - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

// Says how the child ended, for a run that lost it.
static void describe_child_exit(void) {
    int status;
    if (child > 0 && waitpid(child, &status, 0) == child) {
        if (WIFSIGNALED(status)) {
            fprintf(stderr, "sharpfuzz-libfuzzer: the .NET process was killed by signal %d\n", WTERMSIG(status));
        } else if (WIFEXITED(status)) {
            fprintf(stderr, "sharpfuzz-libfuzzer: the .NET process exited with code %d\n", WEXITSTATUS(status));
        }
        child = -1;
    }
}

static void kill_child(void) {
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        child = -1;
    }
}

static void start_child(const char *program, char **arguments, int segment) {
    int control[2];
    int status[2];
    if (pipe(control) != 0 || pipe(status) != 0) {
        fail("pipe");
    }

    pid_t parent = getpid();
    child = fork();
    if (child < 0) {
        fail("fork");
    }

    if (child == 0) {
        // Die with the driver, whichever way it ends (libFuzzer leaves with _Exit on crashes and timeouts).
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
            _exit(1);
        }
        if (dup2(control[0], CONTROL_FD) < 0 || dup2(status[1], STATUS_FD) < 0) {
            fail("dup2");
        }
        close(control[0]);
        close(control[1]);
        close(status[0]);
        close(status[1]);

        char text[16];
        snprintf(text, sizeof text, "%d", segment);
        setenv("__LIBFUZZER_SHM_ID", text, 1);
        snprintf(text, sizeof text, "%d", CONTROL_FD);
        setenv("__LIBFUZZER_CONTROL_PIPE_ID", text, 1);
        snprintf(text, sizeof text, "%d", STATUS_FD);
        setenv("__LIBFUZZER_STATUS_PIPE_ID", text, 1);
        execv(program, arguments);
        fail("exec of the --target program");
    }

    close(control[0]);
    close(status[1]);
    control_fd = control[1];
    status_fd = status[0];
    atexit(kill_child);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    const char *program = NULL;
    char *arguments[MAX_TARGET_ARGS + 2];
    int count = 0;
    for (int i = 1; i < *argc; i++) {
        const char *arg = (*argv)[i];
        if (strncmp(arg, "--target=", 9) == 0) {
            program = arg + 9;
        } else if (strncmp(arg, "--target-arg=", 13) == 0) {
            if (count == MAX_TARGET_ARGS) {
                fprintf(stderr, "sharpfuzz-libfuzzer: at most %d --target-arg flags\n", MAX_TARGET_ARGS);
                exit(1);
            }
            arguments[1 + count++] = (char *)(arg + 13);
        }
    }
    if (program == NULL) {
        fprintf(stderr, "sharpfuzz-libfuzzer: name the .NET program with --target=PATH [--target-arg=ARG]...\n");
        exit(1);
    }
    arguments[0] = (char *)program;
    arguments[1 + count] = NULL;

    int segment = shmget(IPC_PRIVATE, COVERAGE_SIZE + INPUT_AREA_SIZE, IPC_CREAT | IPC_EXCL | 0600);
    if (segment < 0) {
        fail("shmget");
    }
    shared = shmat(segment, NULL, 0);
    if (shared == (void *)-1) {
        shmctl(segment, IPC_RMID, NULL);
        fail("shmat");
    }

    start_child(program, arguments, segment);
    // A write to a child that died must fail with EPIPE and be reported as its crash, not kill this process.
    signal(SIGPIPE, SIG_IGN);

    int32_t ready;
    int attached = io_exact(status_fd, &ready, sizeof ready, 0) == 0;
    // Both sides are attached now (or the child is gone): once marked, the segment disappears with its last user,
    // however this process ends.
    shmctl(segment, IPC_RMID, NULL);
    if (!attached) {
        describe_child_exit();
        fprintf(stderr, "sharpfuzz-libfuzzer: the .NET program never reported ready (is it calling Fuzzer.LibFuzzer.Run?)\n");
        exit(1);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > INPUT_AREA_SIZE) {
        // libFuzzer's -max_len keeps inputs far below this; refuse rather than truncate silently.
        fprintf(stderr, "sharpfuzz-libfuzzer: an input of %zu bytes exceeds the %d-byte input area\n", size, INPUT_AREA_SIZE);
        exit(1);
    }

    memset(shared, 0, COVERAGE_SIZE);
    memcpy(shared + COVERAGE_SIZE, data, size);
    int32_t length = (int32_t)size;
    int32_t status;
    if (io_exact(control_fd, &length, sizeof length, 1) != 0 || io_exact(status_fd, &status, sizeof status, 0) != 0) {
        describe_child_exit();
        fprintf(stderr, "sharpfuzz-libfuzzer: the .NET process died on this input\n");
        __builtin_trap();
    }

    memcpy(coverage_counters, shared, COVERAGE_SIZE);
    if (status != 0) {
        // The .NET side printed the exception; trapping makes libFuzzer report the crash and save the input.
        __builtin_trap();
    }
    return 0;
}
