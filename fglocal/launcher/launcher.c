/* fglocal's native launcher: `fglocal invoke` as a thin client of the runtime server, without a
 * Python start-up.
 *
 * Built by `fglocal runtime-server` into its private folder (fglocal/launcher/__init__.py writes
 * launcher_config.h: the protocol, the token of the server's fglocal, its command names and how to
 * run the Python fglocal). It speaks fglocal/thin_client.py's protocol, the same way: when the
 * command line is an invoke and FGLOCAL_RUNTIME_SERVER names a usable folder, it sends
 *   4-byte big-endian length + fds 0, 1, 2 (SCM_RIGHTS), then the payload
 *   PROTOCOL \0 token \0 cwd \0 umask \0 argc \0 argv[0] \0 ... argv[argc-1] \0 KEY=VALUE ...
 * to supervisor.sock, and after "OK\n" forwards SIGINT/SIGTERM as "S<n>\n" until "X<code>\n", the
 * run's exit code. Any doubt before "OK" (not an invoke, no usable folder, nobody listening, a
 * refusal, a short answer) runs the Python fglocal instead (execv, same arguments): its output is
 * that of fglocal run directly (whose own thin client then asks once more: setting
 * FGLOCAL_THIN_CLIENT=0 to spare that would reach the function's environment). C99, Linux, libc only.
 */
#define _GNU_SOURCE /* MSG_NOSIGNAL, SOCK_CLOEXEC, SCM_RIGHTS */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "launcher_config.h" /* generated: FGL_* below */

extern char **environ;

static int conn = -1;                  /* the connection to the warm supervisor */
static struct sigaction pipe_old, xfsz_old; /* the dispositions this process started with */
static int coerced;                    /* LC_CTYPE set as Python would (put back for the fallback) */
static char *ctype_before;             /* its value before, or NULL */

/* Run the Python fglocal with this command line (never returns). */
static void fall_back(int argc, char **argv)
{
    size_t prefix = sizeof fgl_fallback / sizeof fgl_fallback[0] - 1, i;
    char **args = malloc((prefix + (size_t)argc + 1) * sizeof *args); /* + NULL (argc may be 0) */

    if (conn >= 0)
        close(conn);
    sigaction(SIGPIPE, &pipe_old, NULL); /* as this process got them: exec keeps ignored signals */
    sigaction(SIGXFSZ, &xfsz_old, NULL);
    if (coerced && (ctype_before ? setenv("LC_CTYPE", ctype_before, 1) : unsetenv("LC_CTYPE")) != 0)
        _exit(1); /* (only if out of memory) the fallback's environment would not be this one's */
    if (args == NULL) {
        fputs("fglocal: error: out of memory\n", stderr);
        _exit(1);
    }
    for (i = 0; i < prefix; i++)
        args[i] = (char *)fgl_fallback[i];
    for (i = 1; i < (size_t)argc; i++)
        args[prefix + i - 1] = argv[i];
    args[prefix + (argc > 0 ? (size_t)argc - 1 : 0)] = NULL;
    execv(args[0], args);
    fprintf(stderr, "fglocal: error: cannot run %s: %s\n", args[0], strerror(errno));
    _exit(127);
}

/* thin_client.is_invoke: not a plug-in command, --help or --version; no -h/--help anywhere. */
static int is_invoke(int argc, char **argv)
{
    int i;

    if (argc > 1) {
        if (!strcmp(argv[1], "--version"))
            return 0;
        for (i = 0; fgl_commands[i] != NULL; i++)
            if (!strcmp(argv[1], fgl_commands[i]))
                return 0;
    }
    for (i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return 0;
    return 1;
}

/* thin_client._usable: a directory (not a symlink), mode exactly 0700, this user's. */
static int usable(const char *folder)
{
    struct stat info;

    return lstat(folder, &info) == 0 && (info.st_mode & 0170777) == 0040700 && info.st_uid == getuid();
}

/* What a Python 3 client would be after its start-up, in its environment and its flags (part of the
 * token): in the C/POSIX locale (PEP 538) LC_CTYPE is set to C.UTF-8 in its environment unless LC_ALL
 * is set or PYTHONCOERCECLOCALE=0; its UTF-8 mode (PEP 540) is PYTHONUTF8, else on in that locale.
 * The launcher sends the same environment, and falls back where a Python client's token would not
 * be the server's (another UTF-8 mode) or Python has something to say (a coercion warning, a bad
 * PYTHONUTF8). Returns 0 when the launcher should fall back. */
static int as_python_starts(void)
{
    static const char *const targets[] = {"C.UTF-8", "C.utf8", "UTF-8"};
    const char *coerce = getenv("PYTHONCOERCECLOCALE"), *all = getenv("LC_ALL");
    const char *utf8 = getenv("PYTHONUTF8"), *ctype;
    int legacy, utf8_mode;
    size_t i;

    setlocale(LC_CTYPE, ""); /* an unknown locale leaves "C", as in Python */
    ctype = setlocale(LC_CTYPE, NULL);
    legacy = ctype != NULL && (!strcmp(ctype, "C") || !strcmp(ctype, "POSIX"));
    if (utf8 != NULL && *utf8) {
        if (strcmp(utf8, "0") && strcmp(utf8, "1"))
            return 0;
        utf8_mode = !strcmp(utf8, "1");
    } else
        utf8_mode = legacy;
    if (utf8_mode != FGL_UTF8_MODE)
        return 0;
    if (!legacy || (all != NULL && *all) || (coerce != NULL && !strcmp(coerce, "0")))
        return 1;
    if (coerce != NULL && !strcmp(coerce, "warn"))
        return 0;
    ctype = getenv("LC_CTYPE");
    if (ctype != NULL && (ctype_before = strdup(ctype)) == NULL)
        return 0;
    for (i = 0; i < sizeof targets / sizeof targets[0]; i++)
        if (setlocale(LC_CTYPE, targets[i]) != NULL) {
            coerced = 1;
            return setenv("LC_CTYPE", targets[i], 1) == 0;
        }
    return 1;
}

/* The payload, built in one growing buffer. */
struct buffer {
    char *data;
    size_t size, cap;
};

static int append(struct buffer *b, const void *data, size_t size, int separator)
{
    size_t need = b->size + size + (separator ? 1 : 0);
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        char *grown;
        while (cap < need)
            cap *= 2;
        if ((grown = realloc(b->data, cap)) == NULL)
            return 0;
        b->data = grown, b->cap = cap;
    }
    if (separator)
        b->data[b->size++] = '\0';
    memcpy(b->data + b->size, data, size);
    b->size += size;
    return 1;
}

static int append_text(struct buffer *b, const char *text, int separator)
{
    return append(b, text, strlen(text), separator);
}

/* One environ entry for the dedupe: its text, its key's length (to the '='), its place in environ. */
struct entry {
    const char *text;
    size_t key, index;
};

static int by_key_then_place(const void *left, const void *right)
{
    const struct entry *a = left, *b = right;
    int order = memcmp(a->text, b->text, a->key < b->key ? a->key : b->key);

    if (order != 0)
        return order;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* Python's os.environb: entries with an '=', the first of each key (environ may repeat one), in
 * environ's order. Repeats are found in a sorted index (n log n: 100,000 variables are common in
 * nobody's shell, but a quadratic scan of them took a minute). */
static int append_environment(struct buffer *b)
{
    size_t count = 0, used = 0, i;
    struct entry *sorted;
    char *repeated;
    int ok = 1;

    while (environ[count] != NULL)
        count++;
    sorted = malloc((count + 1) * sizeof *sorted);
    repeated = calloc(count + 1, 1);
    if (sorted == NULL || repeated == NULL) {
        free(sorted);
        free(repeated);
        return 0;
    }
    for (i = 0; i < count; i++) {
        const char *equals = strchr(environ[i], '=');
        if (equals == NULL) {
            repeated[i] = 1; /* not a variable: os.environb leaves it out */
            continue;
        }
        sorted[used].text = environ[i], sorted[used].key = (size_t)(equals - environ[i]);
        sorted[used].index = i, used++;
    }
    qsort(sorted, used, sizeof *sorted, by_key_then_place);
    for (i = 1; i < used; i++)
        if (sorted[i].key == sorted[i - 1].key && !memcmp(sorted[i].text, sorted[i - 1].text, sorted[i].key))
            repeated[sorted[i].index] = 1; /* a later one of a key seen before */
    for (i = 0; ok && i < count; i++)
        if (!repeated[i])
            ok = append_text(b, environ[i], 1);
    free(sorted);
    free(repeated);
    return ok;
}

static int append_cwd(struct buffer *b)
{
    size_t size = 4096;
    char *cwd = NULL;
    int ok;

    for (;;) { /* as long as the path is */
        char *grown = realloc(cwd, size);
        if (grown == NULL)
            break;
        cwd = grown;
        if (getcwd(cwd, size) != NULL || errno != ERANGE)
            break;
        size *= 2;
    }
    ok = cwd != NULL && getcwd(cwd, size) != NULL && append_text(b, cwd, 1);
    free(cwd);
    return ok;
}

static int send_all(const char *data, size_t size)
{
    while (size > 0) {
        ssize_t sent = send(conn, data, size, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent <= 0)
            return 0;
        data += sent, size -= (size_t)sent;
    }
    return 1;
}

/* The request's payload into b (built before connecting: the supervisor's read has a timeout); 0 if not. */
static int build_request(struct buffer *b, int argc, char **argv)
{
    char number[32];
    int i, ok;
    mode_t mask = umask(022);

    umask(mask);
    ok = append(b, FGL_PROTOCOL, sizeof FGL_PROTOCOL - 1, 0) &&
         append(b, fgl_token, sizeof fgl_token - 1, 1) && append_cwd(b);
    snprintf(number, sizeof number, "%d", (int)mask);
    ok = ok && append_text(b, number, 1);
    snprintf(number, sizeof number, "%d", argc);
    ok = ok && append_text(b, number, 1) && append(b, fgl_argv0, sizeof fgl_argv0 - 1, 1);
    for (i = 1; ok && i < argc; i++)
        ok = append_text(b, argv[i], 1);
    return ok && append_environment(b) && b->size <= 0xffffffffu;
}

/* Send the header with fds 0-2, then the payload; 0 if anything failed. */
static int send_request(const struct buffer *b)
{
    char header[4], control[CMSG_SPACE(3 * sizeof(int))];
    struct iovec iov = {header, sizeof header};
    struct msghdr message;
    struct cmsghdr *cmsg;
    int fds[3] = {0, 1, 2};
    ssize_t sent;

    header[0] = (char)(b->size >> 24), header[1] = (char)(b->size >> 16);
    header[2] = (char)(b->size >> 8), header[3] = (char)b->size;
    memset(&message, 0, sizeof message);
    memset(control, 0, sizeof control);
    message.msg_iov = &iov, message.msg_iovlen = 1;
    message.msg_control = control, message.msg_controllen = sizeof control;
    cmsg = CMSG_FIRSTHDR(&message);
    cmsg->cmsg_level = SOL_SOCKET, cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(cmsg), fds, sizeof fds);
    do
        sent = sendmsg(conn, &message, MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    return sent == (ssize_t)sizeof header && send_all(b->data, b->size);
}

/* The supervisor's answer lines, read as they come. */
static char pending[512];
static size_t pending_size;

/* The next line (with its newline) into line[cap], else what came before the connection closed. */
static size_t next_line(char *line, size_t cap)
{
    for (;;) {
        char *newline = memchr(pending, '\n', pending_size);
        size_t size = newline ? (size_t)(newline - pending) + 1 : pending_size;
        ssize_t got;
        if (newline != NULL || pending_size == sizeof pending) { /* a line (or a too long one) */
            size_t kept = size < cap ? size : cap;
            memcpy(line, pending, kept);
            memmove(pending, pending + size, pending_size - size);
            pending_size -= size;
            return kept;
        }
        got = recv(conn, pending + pending_size, sizeof pending - pending_size, 0);
        if (got < 0 && errno == EINTR)
            continue; /* a forwarded signal */
        if (got <= 0) {
            size = pending_size < cap ? pending_size : cap;
            memcpy(line, pending, size);
            pending_size = 0;
            return size;
        }
        pending_size += (size_t)got;
    }
}

/* A signal for the run: "S<n>\n" (async-signal-safe: send only). */
static void forward(int signum)
{
    int saved = errno;
    char message[8] = "S";
    size_t size = 1;

    if (signum >= 10)
        message[size++] = (char)('0' + signum / 10);
    message[size++] = (char)('0' + signum % 10);
    message[size++] = '\n';
    send(conn, message, size, MSG_NOSIGNAL);
    errno = saved;
}

/* After "OK": forward signals until the run's exit code comes; exit with it. */
static void wait_for_the_run(void)
{
    struct sigaction action, old;
    char line[32];
    size_t size, i;
    unsigned long code = 0;

    memset(&action, 0, sizeof action);
    action.sa_handler = forward; /* no SA_RESTART: recv returns EINTR, and is called again */
    sigemptyset(&action.sa_mask);
    /* As a normal run: SIGTERM always ends it, SIGINT unless this process started with it ignored. */
    if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
        sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    size = next_line(line, sizeof line);
    if (size >= 3 && size <= 12 && line[0] == 'X' && line[size - 1] == '\n') { /* "X<digits>\n" */
        for (i = 1; i < size - 1 && line[i] >= '0' && line[i] <= '9'; i++)
            code = code * 10 + (unsigned long)(line[i] - '0');
        if (i == size - 1)
            _exit((int)(code & 0xFF));
    }
    static const char ended[] = "fglocal: error: the runtime server ended during the run\n";
    if (write(2, ended, sizeof ended - 1) < 0)
        _exit(1);
    _exit(1);
}

int main(int argc, char **argv)
{
    const char *folder = getenv("FGLOCAL_RUNTIME_SERVER"), *thin = getenv("FGLOCAL_THIN_CLIENT");
    struct sockaddr_un address;
    struct sigaction ignore;
    struct buffer request = {NULL, 0, 0};
    char line[8];
    size_t length;
    int fd;

    sigaction(SIGPIPE, NULL, &pipe_old);
    sigaction(SIGXFSZ, NULL, &xfsz_old);
    if (argc < 1 || folder == NULL || !*folder || (thin != NULL && !strcmp(thin, "0")) ||
        !is_invoke(argc, argv) || !usable(folder) || !as_python_starts())
        fall_back(argc, argv);
    for (fd = 0; fd <= 2; fd++) /* all three are sent: a closed one would be the socket */
        if (fcntl(fd, F_GETFD) < 0)
            fall_back(argc, argv);
    length = strlen(folder);
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    if (length + 1 + sizeof FGL_SOCKET_NAME > sizeof address.sun_path) /* os.path.join's path */
        fall_back(argc, argv);
    memcpy(address.sun_path, folder, length);
    if (folder[length - 1] != '/')
        address.sun_path[length++] = '/';
    memcpy(address.sun_path + length, FGL_SOCKET_NAME, sizeof FGL_SOCKET_NAME);
    /* A Python process ignores SIGPIPE and SIGXFSZ: the supervisor gives the run the client's
     * ignored signals (/proc/PID/status), so this process looks the same to it. */
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, NULL);
    sigaction(SIGXFSZ, &ignore, NULL);
    if (!build_request(&request, argc, argv))
        fall_back(argc, argv);
    conn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (conn < 0 || connect(conn, (struct sockaddr *)&address, sizeof address) != 0 ||
        !send_request(&request))
        fall_back(argc, argv);
    free(request.data);
    length = next_line(line, sizeof line);
    if (length < 2 || line[0] != 'O' || line[1] != 'K')
        fall_back(argc, argv); /* refused (another fglocal, limits it cannot give): run it in Python */
    wait_for_the_run();
    return 1;
}
