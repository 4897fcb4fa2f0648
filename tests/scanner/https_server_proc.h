/*
 * Runs tests/scanner/https_server.py as a child process for the HTTPS fetcher tests and
 * benchmark, and talks to its control port. Test code: blocking I/O, exits on failure.
 */
#ifndef MTS_TESTS_HTTPS_SERVER_PROC_H
#define MTS_TESTS_HTTPS_SERVER_PROC_H

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>

extern char **environ;

struct https_server_proc {
    pid_t pid;
    unsigned port, ctl_port;
};

/* Starts the server on the certificates in certdir; exits the test on failure. */
static inline void https_server_start(struct https_server_proc *s, const char *script,
                                      const char *certdir)
{
    int fds[2];
    posix_spawn_file_actions_t fa;
    char *argv[] = {"/usr/bin/python3", (char *)script, (char *)certdir, NULL};
    char line[128] = "";

    if (pipe(fds) != 0) {
        perror("pipe");
        exit(2);
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    if (posix_spawn(&s->pid, argv[0], &fa, NULL, argv, environ) != 0) {
        perror("posix_spawn");
        exit(2);
    }
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    if (!in || !fgets(line, sizeof(line), in) ||
        sscanf(line, "PORT %u %u", &s->port, &s->ctl_port) != 2) {
        fprintf(stderr, "https_server.py did not start: %s\n", line);
        kill(s->pid, SIGTERM);
        exit(2);
    }
    fclose(in);
}

static inline void https_server_stop(struct https_server_proc *s)
{
    int status;

    kill(s->pid, SIGTERM);
    waitpid(s->pid, &status, 0);
}

/* Sends one control command; returns the server's JSON reply (caller owns). */
static inline json_t *https_server_cmd(const struct https_server_proc *s, const char *cmd)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(s->ctl_port)};
    char buf[1 << 16];
    size_t len = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd) || write(fd, "\n", 1) != 1) {
        perror("control connection");
        exit(2);
    }
    while (len < sizeof(buf) - 1) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
        if (buf[len - 1] == '\n') {
            break;
        }
    }
    close(fd);
    buf[len] = '\0';
    json_t *j = json_loads(buf, 0, NULL);
    if (!j) {
        fprintf(stderr, "bad control reply: %s\n", buf);
        exit(2);
    }
    return j;
}

#endif
