/*
 * cronwarden-exec: starts the run commands of one spawner process (spawner-process.mjs) with
 * posix_spawn, and tells it how each ended.
 *
 * Node's spawn() forks the calling process: the kernel copies the caller's page tables, the child
 * tears them down again at exec, and the caller takes a copy-on-write fault for each page it touches
 * meanwhile. Starting `/bin/true` from a bare Node process (~40 MiB) took about 1.95 ms of the
 * machine's CPU, from a small C program with posix_spawn 0.65 ms (docs/performance.md, item 48).
 * glibc's posix_spawn is clone(CLONE_VM | CLONE_VFORK): nothing is copied, and this process is a
 * few hundred KiB besides.
 *
 * Requests on stdin, each a 4-byte little-endian length and then that many bytes of NUL-terminated
 * strings:
 *   id, program, cwd, stdout path, stderr path, argument count, the arguments, variable count, "NAME=value"…
 * The paths are FIFOs the spawner opened for reading: the child opens them for writing as its
 * stdout and stderr (stdin is /dev/null). The child gets its own session and process group (as
 * Node's `detached`), every signal at its default and none blocked, and the program is looked up in
 * the PATH of its own environment (as execvp, and Node's spawn, do). One difference from spawn():
 * glibc's posix_spawn leaves its own two signals (32 and 33, which no program may use: glibc and
 * musl reserve them, and install their handlers for them at every program's start) ignored.
 *
 * Replies on stdout, a line each:
 *   S <id> <pid>              started: the child has its pipes open and has exec'd
 *   F <id> <errno>            could not be started (ENOENT, EACCES, a cwd that is not there…)
 *   X <id> <code> <signal>    exited: code -1 when a signal ended it; signal 0 when none did
 *
 * It ignores SIGINT, SIGTERM and SIGHUP (the spawner does too: exit statuses are still wanted while
 * the daemon shuts down) and exits when stdin ends or stdout is gone. Children outlive it, as they
 * outlive the spawner process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

/** A request larger than this is refused (E2BIG) rather than buffered. */
#define MAX_REQUEST (64u << 20)
/** execvp's search path when the environment has no PATH. */
#define DEFAULT_PATH "/bin:/usr/bin"

struct child {
  pid_t pid;
  unsigned long id;
};

static struct child *children;
static size_t child_count, child_capacity;

static char *input;
static size_t input_length, input_capacity;

static char reply_buffer[64 * 1024];
static size_t reply_length;

static void die(const char *what) {
  fprintf(stderr, "cronwarden-exec: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void flush_replies(void) {
  size_t written = 0;
  while (written < reply_length) {
    ssize_t n = write(STDOUT_FILENO, reply_buffer + written, reply_length - written);
    if (n < 0 && errno == EINTR) continue;
    /* The spawner is gone (EPIPE): nobody is left to tell. */
    if (n < 0) exit(errno == EPIPE ? 0 : 1);
    written += (size_t)n;
  }
  reply_length = 0;
}

static void reply(const char *format, ...) __attribute__((format(printf, 1, 2)));
static void reply(const char *format, ...) {
  if (sizeof reply_buffer - reply_length < 128) flush_replies();
  va_list args;
  va_start(args, format);
  int n = vsnprintf(reply_buffer + reply_length, sizeof reply_buffer - reply_length, format, args);
  va_end(args);
  if (n > 0) reply_length += (size_t)n;
}

static void remember(pid_t pid, unsigned long id) {
  if (child_count == child_capacity) {
    child_capacity = child_capacity ? 2 * child_capacity : 64;
    children = realloc(children, child_capacity * sizeof *children);
    if (!children) die("out of memory");
  }
  children[child_count++] = (struct child){ pid, id };
}

/** Reports every child that has ended (several may share one SIGCHLD). */
static void reap(void) {
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    for (size_t i = 0; i < child_count; i++) {
      if (children[i].pid != pid) continue;
      if (WIFSIGNALED(status)) reply("X %lu -1 %d\n", children[i].id, WTERMSIG(status));
      else reply("X %lu %d 0\n", children[i].id, WEXITSTATUS(status));
      children[i] = children[--child_count];
      break;
    }
  }
}

/** The value of `name` in `env` (a NULL-ended array of "NAME=value"), or NULL. */
static const char *lookup(char **env, const char *name) {
  size_t length = strlen(name);
  for (; *env; env++)
    if (strncmp(*env, name, length) == 0 && (*env)[length] == '=') return *env + length + 1;
  return NULL;
}

/** posix_spawn of `path`; a file without a #! line or ELF header is run by /bin/sh, as execvp does. */
static int spawn_file(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
                      const posix_spawnattr_t *attributes, char **argv, char **env) {
  int error = posix_spawn(pid, path, actions, attributes, argv, env);
  if (error != ENOEXEC) return error;
  size_t count = 0;
  while (argv[count]) count++;
  char **shell_argv = calloc(count + 2, sizeof *shell_argv);
  if (!shell_argv) return ENOMEM;
  shell_argv[0] = "/bin/sh";
  shell_argv[1] = (char *)path;
  for (size_t i = 1; i < count; i++) shell_argv[i + 1] = argv[i];
  error = posix_spawn(pid, "/bin/sh", actions, attributes, shell_argv, env);
  free(shell_argv);
  return error;
}

/** Starts `argv[0]`: as given when it has a slash, else the first match along the environment's PATH. */
static int spawn_program(pid_t *pid, const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attributes,
                         char **argv, char **env) {
  const char *program = argv[0];
  if (*program == '\0') return ENOENT;
  if (strchr(program, '/')) return spawn_file(pid, program, actions, attributes, argv, env);
  const char *path = lookup(env, "PATH");
  if (!path) path = DEFAULT_PATH;
  size_t program_length = strlen(program);
  char *candidate = malloc(strlen(path) + program_length + 2);
  if (!candidate) return ENOMEM;
  int result = ENOENT;
  for (const char *dir = path;; ) {
    const char *end = strchrnul(dir, ':');
    size_t length = (size_t)(end - dir);
    /* An empty entry is the working directory (the child's, as after execvp's chdir). */
    if (length == 0) {
      candidate[0] = '.';
      length = 1;
    } else {
      memcpy(candidate, dir, length);
    }
    candidate[length] = '/';
    memcpy(candidate + length + 1, program, program_length + 1);
    int error = spawn_file(pid, candidate, actions, attributes, argv, env);
    if (error == 0) {
      result = 0;
      break;
    }
    /* As execvp: a file found but not executable is remembered; other misses go on to the next entry. */
    if (error == EACCES) result = EACCES;
    else if (error != ENOENT && error != ENOTDIR && error != ESTALE && error != ELOOP && error != ENAMETOOLONG) {
      result = error;
      break;
    }
    if (*end == '\0') break;
    dir = end + 1;
  }
  free(candidate);
  return result;
}

/** Splits `count` NUL-terminated strings off the front of [*at, end); NULL when there are fewer. */
static char **strings(char **at, const char *end, size_t count) {
  char **list = calloc(count + 1, sizeof *list);
  if (!list) return NULL;
  for (size_t i = 0; i < count; i++) {
    char *nul = memchr(*at, '\0', (size_t)(end - *at));
    if (!nul) {
      free(list);
      return NULL;
    }
    list[i] = *at;
    *at = nul + 1;
  }
  return list;
}

static void start(char *request, size_t length) {
  const char *end = request + length;
  char *at = request;
  char **head = strings(&at, end, 6);
  if (!head) {
    /* Not from spawner-process.mjs, which always sends whole requests: nobody waits for an answer it could read. */
    fprintf(stderr, "cronwarden-exec: a request that is not well formed was ignored\n");
    return;
  }
  unsigned long id = strtoul(head[0], NULL, 10);
  const char *program = head[1], *cwd = head[2], *stdout_path = head[3], *stderr_path = head[4];
  size_t argc = strtoul(head[5], NULL, 10);
  char **args = argc < length ? strings(&at, end, argc) : NULL;
  char *env_count = args ? (char *)memchr(at, '\0', (size_t)(end - at)) : NULL;
  char **env = NULL;
  char **argv = NULL;
  if (env_count) {
    char *count_text = at;
    at = env_count + 1;
    size_t envc = strtoul(count_text, NULL, 10);
    env = envc < length ? strings(&at, end, envc) : NULL;
  }
  if (env) argv = calloc(argc + 2, sizeof *argv);
  if (!argv) {
    reply("F %lu %d\n", id, env ? ENOMEM : EINVAL);
    free(head), free(args), free(env);
    return;
  }
  argv[0] = (char *)program;
  memcpy(argv + 1, args, argc * sizeof *argv);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  int error = posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (!error) error = posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path, O_WRONLY, 0);
  if (!error) error = posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path, O_WRONLY, 0);
  if (!error) error = posix_spawn_file_actions_addchdir_np(&actions, cwd);
  if (!error) error = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  if (!error) error = posix_spawnattr_setsigmask(&attributes, &none);
  if (!error) error = posix_spawnattr_setsigdefault(&attributes, &all);
  pid_t pid = 0;
  if (!error) error = spawn_program(&pid, &actions, &attributes, argv, env);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (error) {
    reply("F %lu %d\n", id, error);
  } else {
    remember(pid, id);
    reply("S %lu %d\n", id, (int)pid);
  }
  free(head), free(args), free(env), free(argv);
}

/** Starts every whole request in the input; false when stdin has ended. */
static int read_requests(void) {
  /* Room for a read, and for the whole of a request begun in the input. */
  size_t wanted = input_length + 64 * 1024;
  if (input_length >= 4) {
    const uint8_t *size = (const uint8_t *)input;
    wanted += size[0] | (size_t)size[1] << 8 | (size_t)size[2] << 16 | (size_t)size[3] << 24;
  }
  if (wanted > input_capacity) {
    input_capacity = wanted;
    input = realloc(input, input_capacity);
    if (!input) die("out of memory");
  }
  ssize_t n = read(STDIN_FILENO, input + input_length, input_capacity - input_length);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return 0;
  input_length += (size_t)n;
  size_t offset = 0;
  while (input_length - offset >= 4) {
    const uint8_t *size = (const uint8_t *)input + offset;
    uint32_t length = size[0] | (uint32_t)size[1] << 8 | (uint32_t)size[2] << 16 | (uint32_t)size[3] << 24;
    if (length > MAX_REQUEST) {
      fprintf(stderr, "cronwarden-exec: a request of %u bytes is over the limit of %u\n", length, MAX_REQUEST);
      exit(1);
    }
    if (input_length - offset - 4 < length) break;
    start(input + offset + 4, length);
    offset += 4 + length;
    /* The spawner reads a command's pipes once it knows it started: at once, not after the batch. */
    flush_replies();
  }
  memmove(input, input + offset, input_length - offset);
  input_length -= offset;
  return 1;
}

int main(void) {
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &chld, NULL) != 0) die("sigprocmask");
  int signals = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signals < 0) die("signalfd");
  /* Nothing of ours may reach a command: its stdin, stdout and stderr are opened for it. */
  for (int fd = 0; fd <= 2; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);

  struct pollfd watched[2] = { { STDIN_FILENO, POLLIN, 0 }, { signals, POLLIN, 0 } };
  for (;;) {
    if (poll(watched, 2, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (watched[1].revents) {
      struct signalfd_siginfo info;
      while (read(signals, &info, sizeof info) > 0) continue;
      reap();
    }
    if (watched[0].revents && !read_requests()) {
      flush_replies();
      return 0;
    }
    /* Exits that came while starting: their statuses go out with the starts. */
    reap();
    flush_replies();
  }
}
