/*
 * main.c - iocpu's entry point: configuration, signals, run. The only file
 * that names both the server and the endpoint groups it serves.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "handlers.h"
#include "probe.h"
#include "server.h"

static server *running;
static volatile sig_atomic_t signals;

/* First SIGTERM/SIGINT: drain within --grace. Second: stop at once. Both
 * only store atomics and write an eventfd, which is async-signal-safe. */
static void on_signal(int sig)
{
    (void)sig;
    if (!running) return;
    if (signals++ == 0)
        server_drain(running);
    else
        server_stop(running);
}

int main(int argc, char **argv)
{
    /* `iocpu --probe URL`: the container health check, not a server */
    if (argc > 1 && !strcmp(argv[1], "--probe")) return probe_main(argc, argv);
    config cfg;
    config_defaults(&cfg);
    int rc = config_parse(&cfg, argc, argv, stdout, stderr);
    if (rc != 0) return rc > 0 ? 0 : 2;

    signal(SIGPIPE, SIG_IGN);
    server *s;
    if ((rc = server_new(&s, &cfg, handlers_all())) < 0) {
        fprintf(stderr, "iocpu: cannot start: %s\n", strerror(-rc));
        return 1;
    }
    running = s;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    fprintf(stderr, "iocpu: listening on http://%s:%u (loops %ld, workers %ld, queue %ld)\n",
            cfg.host, server_port(s), server_loops(s), cfg.workers, cfg.queue);
    rc = server_run(s);
    fprintf(stderr, "iocpu: stopping\n");
    running = NULL;
    server_free(s);
    return rc < 0 || signals > 1 ? 1 : 0;
}
