/*
 * main.c - iocpu's entry point: configuration, signals, run. The only file
 * that names both the server and the endpoint groups it serves.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "handlers.h"
#include "probe.h"
#include "server.h"

static server *running;
static int signals;           /* SIGTERM/SIGINT seen; read by main after the join */
static atomic_int quitting;   /* main is done: the next signal ends the signal thread */
static sigset_t stop_signals; /* SIGINT, SIGTERM */

/* SIGINT and SIGTERM are blocked in every thread (main blocks them before any
 * thread starts, and threads inherit the mask, libcurl's and the resolvers'
 * included) and taken here by sigwait(), so a signal never interrupts a
 * worker's or an IO thread's blocking call. First signal: drain within
 * --grace. Second: stop at once. server_drain() and server_stop() only store
 * atomics and write an eventfd: any thread may call them. */
static void *signal_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "iocpu-signals");
    for (;;) {
        int sig;
        if (sigwait(&stop_signals, &sig) != 0) continue;
        if (atomic_load(&quitting)) return NULL;
        if (signals++ == 0)
            server_drain(running);
        else
            server_stop(running);
    }
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
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL); /* before any thread starts */
    server *s;
    if ((rc = server_new(&s, &cfg, handlers_all())) < 0) {
        fprintf(stderr, "iocpu: cannot start: %s\n", strerror(-rc));
        return 1;
    }
    running = s;
    pthread_t sig_thread;
    if ((rc = pthread_create(&sig_thread, NULL, signal_main, NULL)) != 0) {
        fprintf(stderr, "iocpu: cannot start: %s\n", strerror(rc));
        server_free(s);
        return 1;
    }

    fprintf(stderr, "iocpu: listening on http://%s:%u (loops %ld, workers %ld, queue %ld)\n",
            cfg.host, server_port(s), server_loops(s), cfg.workers, cfg.queue);
    rc = server_run(s);
    fprintf(stderr, "iocpu: stopping\n");
    atomic_store(&quitting, 1);
    pthread_kill(sig_thread, SIGINT); /* wakes its sigwait(): it sees quitting and ends */
    pthread_join(sig_thread, NULL);
    running = NULL;
    server_free(s);
    return rc < 0 || signals > 1 ? 1 : 0;
}
