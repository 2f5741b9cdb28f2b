/* The floor: a small blocking C client on libhiredis doing the same round
 * trips as each workload of benchmarks/bench.py, so that every workload has
 * the cost of "C, one blocking socket, no Python objects" measured in the same
 * interleaved rounds as redis_native and redis-py.
 *
 *   build/floor --host 127.0.0.1 --port 6379      (or --unix /path/to/sock)
 *               [--channel NAME]                  (PUBSUB's channel, its own)
 *
 * It reads one request per line on stdin, "<WORKLOAD> <n>", runs n units of
 * that workload and answers with one JSON line on stdout:
 *
 *   {"op": "GET_16", "n": 2000, "wall_us": 24.1, "cpu_us": 7.9}
 *
 * wall_us and cpu_us are per unit (per command for pipelines and MULTI/EXEC,
 * per operation for the threaded workloads, summed over the threads).  The
 * data the GET-like workloads read is prepared by bench.py; the key names and
 * values below must match it (bench.py's KEYS/VALUES).  Any unexpected reply
 * ends the program with a message on stderr and exit status 1: a floor that
 * silently measured errors would be worthless.
 *
 * Built by `make bench` (see the Makefile's build/floor rule) with
 * `pkg-config hiredis`.
 */
#define _GNU_SOURCE
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *host = "127.0.0.1";
static int port = 6379;
static const char *unix_path = NULL;
static const char *channel = "bench:chan:floor";   /* --channel: PUBSUB's own */

static redisContext *main_ctx;      /* the workloads' connection */
static redisContext *sub_ctx;       /* the subscriber of PUBSUB, lazily */
#define MAX_THREADS 16
static redisContext *thread_ctx[MAX_THREADS];   /* THREADS_*, lazily, kept */

static char *v16, *v1k, *v100k, *v8m;

static void
die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "floor: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static redisContext *
connect_one(void)
{
    redisContext *c = unix_path ? redisConnectUnix(unix_path) : redisConnect(host, port);
    if (c == NULL || c->err)
        die("connect: %s", c ? c->errstr : "out of memory");
    return c;
}

static double
now(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Check a reply's type (and for arrays its length, -1: any); frees it. */
static void
expect(redisReply *r, int type, long long elements, const char *what)
{
    if (r == NULL)
        die("%s: no reply (%s)", what, main_ctx && main_ctx->err ? main_ctx->errstr : "I/O");
    if (r->type == REDIS_REPLY_ERROR)
        die("%s: error reply %s", what, r->str);
    if (r->type != type)
        die("%s: reply type %d, expected %d", what, r->type, type);
    if (type == REDIS_REPLY_ARRAY && elements >= 0 && (long long)r->elements != elements)
        die("%s: %zu elements, expected %lld", what, r->elements, elements);
    freeReplyObject(r);
}

static redisReply *
get_reply(redisContext *c)
{
    void *r = NULL;
    if (redisGetReply(c, &r) != REDIS_OK)
        die("read: %s", c->errstr);
    return r;
}

static char *
filled(size_t n)
{
    char *p = malloc(n);
    if (p == NULL)
        die("out of memory");
    memset(p, 'v', n);
    return p;
}

/* ------------------------------------------------------------------ */
/* workloads: each runs n units and returns the number of units timed   */

static void
set_value(const char *key, const char *val, size_t len)
{
    expect(redisCommand(main_ctx, "SET %s %b", key, val, len), REDIS_REPLY_STATUS, -1, "SET");
}

static void
get_value(const char *key, size_t len)
{
    redisReply *r = redisCommand(main_ctx, "GET %s", key);
    if (r != NULL && r->type == REDIS_REPLY_STRING && r->len != len)
        die("GET %s: %zu bytes, expected %zu", key, r->len, len);
    expect(r, REDIS_REPLY_STRING, -1, "GET");
}

static void
pipeline_set_100(void)
{
    for (int i = 0; i < 100; i++)
        redisAppendCommand(main_ctx, "SET bench:pset %b", v16, (size_t)16);
    for (int i = 0; i < 100; i++)
        expect(get_reply(main_ctx), REDIS_REPLY_STATUS, -1, "pipelined SET");
}

static void
pipeline_get_1000(void)
{
    for (int i = 0; i < 1000; i++)
        redisAppendCommand(main_ctx, "GET bench:v16");
    for (int i = 0; i < 1000; i++)
        expect(get_reply(main_ctx), REDIS_REPLY_STRING, -1, "pipelined GET");
}

static void
multi_exec_10(void)
{
    redisAppendCommand(main_ctx, "MULTI");
    for (int i = 0; i < 10; i++)
        redisAppendCommand(main_ctx, "INCR bench:tx");
    redisAppendCommand(main_ctx, "EXEC");
    expect(get_reply(main_ctx), REDIS_REPLY_STATUS, -1, "MULTI");
    for (int i = 0; i < 10; i++)
        expect(get_reply(main_ctx), REDIS_REPLY_STATUS, -1, "QUEUED");
    expect(get_reply(main_ctx), REDIS_REPLY_ARRAY, 10, "EXEC");
}

static void
mset_10(void)
{
    const char *argv[21];
    size_t lens[21];
    char keys[10][32];
    argv[0] = "MSET";
    lens[0] = 4;
    for (int i = 0; i < 10; i++) {
        snprintf(keys[i], sizeof keys[i], "bench:mset:%d", i);
        argv[1 + 2 * i] = keys[i];
        lens[1 + 2 * i] = strlen(keys[i]);
        argv[2 + 2 * i] = v16;
        lens[2 + 2 * i] = 16;
    }
    expect(redisCommandArgv(main_ctx, 21, argv, lens), REDIS_REPLY_STATUS, -1, "MSET");
}

static const char *mget_argv[101];
static size_t mget_lens[101];

static void
mget_100(void)
{
    if (mget_argv[0] == NULL) {
        mget_argv[0] = "MGET";
        mget_lens[0] = 4;
        for (int i = 0; i < 100; i++) {
            char *k = malloc(32);
            if (k == NULL)
                die("out of memory");
            snprintf(k, 32, "bench:mget:%d", i);
            mget_argv[1 + i] = k;
            mget_lens[1 + i] = strlen(k);
        }
    }
    expect(redisCommandArgv(main_ctx, 101, mget_argv, mget_lens), REDIS_REPLY_ARRAY, 100, "MGET");
}

static const char *hset_argv[202];
static size_t hset_lens[202];

static void
hset_100(void)
{
    if (hset_argv[0] == NULL) {
        hset_argv[0] = "HSET";
        hset_lens[0] = 4;
        hset_argv[1] = "bench:hset";
        hset_lens[1] = strlen(hset_argv[1]);
        for (int i = 0; i < 100; i++) {
            char *f = malloc(16), *v = malloc(16);
            if (f == NULL || v == NULL)
                die("out of memory");
            snprintf(f, 16, "field:%03d", i);
            snprintf(v, 16, "value:%05d", i);
            hset_argv[2 + 2 * i] = f;
            hset_lens[2 + 2 * i] = strlen(f);
            hset_argv[3 + 2 * i] = v;
            hset_lens[3 + 2 * i] = strlen(v);
        }
    }
    expect(redisCommandArgv(main_ctx, 202, hset_argv, hset_lens), REDIS_REPLY_INTEGER, -1, "HSET");
}

static void
pubsub_one(void)
{
    if (sub_ctx == NULL) {
        sub_ctx = connect_one();
        expect(redisCommand(sub_ctx, "SUBSCRIBE %s", channel), REDIS_REPLY_ARRAY, 3,
               "SUBSCRIBE");
    }
    expect(redisCommand(main_ctx, "PUBLISH %s %b", channel, v16, (size_t)16),
           REDIS_REPLY_INTEGER, -1, "PUBLISH");
    redisReply *m = get_reply(sub_ctx);
    if (m == NULL || m->type != REDIS_REPLY_ARRAY || m->elements != 3 ||
        m->element[2]->type != REDIS_REPLY_STRING || m->element[2]->len != 16)
        die("PUBSUB: not the message published");
    freeReplyObject(m);
}

/* connect, redis-py's handshake (CLIENT SETINFO LIB-NAME/LIB-VER, one round
 * trip), PING, close: what `Redis(...).ping(); close()` does on the wire. */
static void
connect_ping_close(void)
{
    redisContext *c = connect_one();
    redisAppendCommand(c, "CLIENT SETINFO LIB-NAME redis-py");
    redisAppendCommand(c, "CLIENT SETINFO LIB-VER 7.4.1");
    freeReplyObject(get_reply(c));
    freeReplyObject(get_reply(c));
    redisReply *r = redisCommand(c, "PING");
    if (r == NULL || r->type != REDIS_REPLY_STATUS)
        die("CONNECT: PING failed");
    freeReplyObject(r);
    redisFree(c);
}

struct thread_job {
    redisContext *c;
    long n;
};

static void *
thread_gets(void *arg)
{
    struct thread_job *job = arg;
    for (long i = 0; i < job->n; i++) {
        redisReply *r = redisCommand(job->c, "GET bench:v16");
        if (r == NULL || r->type != REDIS_REPLY_STRING)
            die("THREADS: GET failed");
        freeReplyObject(r);
    }
    return NULL;
}

/* n GETs shared by `threads` threads, each on its own connection (what a C
 * program would do; the Python clients share one client and its pool). */
static void
threads_gets(int threads, long n)
{
    pthread_t tid[MAX_THREADS];
    struct thread_job jobs[MAX_THREADS];
    for (int i = 0; i < threads; i++) {
        if (thread_ctx[i] == NULL)
            thread_ctx[i] = connect_one();
        jobs[i].c = thread_ctx[i];
        jobs[i].n = n / threads + (i < n % threads ? 1 : 0);
        if (pthread_create(&tid[i], NULL, thread_gets, &jobs[i]) != 0)
            die("pthread_create failed");
    }
    for (int i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
}

/* Runs n units of `op`; returns the number of units for the per-unit time
 * (commands for pipelines), 0 for an unknown workload. */
static long
run(const char *op, long n)
{
#define LOOP(stmt) for (long i = 0; i < n; i++) { stmt; }
    if (!strcmp(op, "PING"))
        LOOP(expect(redisCommand(main_ctx, "PING"), REDIS_REPLY_STATUS, -1, "PING"))
    else if (!strcmp(op, "GET_16") || !strcmp(op, "GET_16_DECODE"))
        LOOP(get_value("bench:v16", 16))
    else if (!strcmp(op, "SET_16"))
        LOOP(set_value("bench:set:16", v16, 16))
    else if (!strcmp(op, "GET_1K"))
        LOOP(get_value("bench:v1k", 1024))
    else if (!strcmp(op, "SET_1K"))
        LOOP(set_value("bench:set:1k", v1k, 1024))
    else if (!strcmp(op, "GET_100K"))
        LOOP(get_value("bench:v100k", 100 * 1024))
    else if (!strcmp(op, "SET_100K"))
        LOOP(set_value("bench:set:100k", v100k, 100 * 1024))
    else if (!strcmp(op, "GET_8M"))
        LOOP(get_value("bench:v8m", 8 << 20))
    else if (!strcmp(op, "SET_8M"))
        LOOP(set_value("bench:set:8m", v8m, 8 << 20))
    else if (!strcmp(op, "INCR"))
        LOOP(expect(redisCommand(main_ctx, "INCR bench:incr"), REDIS_REPLY_INTEGER, -1, "INCR"))
    else if (!strcmp(op, "MSET_10"))
        LOOP(mset_10())
    else if (!strcmp(op, "MGET_100"))
        LOOP(mget_100())
    else if (!strcmp(op, "HSET_100"))
        LOOP(hset_100())
    else if (!strcmp(op, "HGETALL_100") || !strcmp(op, "HGETALL_100_DECODE"))
        LOOP(expect(redisCommand(main_ctx, "HGETALL bench:hash"), REDIS_REPLY_ARRAY, 200,
                    "HGETALL"))
    else if (!strcmp(op, "LRANGE_100") || !strcmp(op, "LRANGE_100_DECODE"))
        LOOP(expect(redisCommand(main_ctx, "LRANGE bench:list 0 99"), REDIS_REPLY_ARRAY, 100,
                    "LRANGE"))
    else if (!strcmp(op, "LRANGE_1000"))
        LOOP(expect(redisCommand(main_ctx, "LRANGE bench:list 0 999"), REDIS_REPLY_ARRAY, 1000,
                    "LRANGE"))
    else if (!strcmp(op, "SMEMBERS_100"))
        LOOP(expect(redisCommand(main_ctx, "SMEMBERS bench:set"), REDIS_REPLY_ARRAY, 100,
                    "SMEMBERS"))
    else if (!strcmp(op, "ZRANGE_100_WITHSCORES"))
        LOOP(expect(redisCommand(main_ctx, "ZRANGE bench:zset 0 99 WITHSCORES"),
                    REDIS_REPLY_ARRAY, 200, "ZRANGE"))
    else if (!strcmp(op, "PIPELINE_100_SET")) {
        LOOP(pipeline_set_100())
        return n * 100;
    }
    else if (!strcmp(op, "PIPELINE_1000_GET")) {
        LOOP(pipeline_get_1000())
        return n * 1000;
    }
    else if (!strcmp(op, "MULTI_EXEC_10_INCR")) {
        LOOP(multi_exec_10())
        return n * 10;
    }
    else if (!strcmp(op, "PUBSUB"))
        LOOP(pubsub_one())
    else if (!strcmp(op, "CONNECT"))
        LOOP(connect_ping_close())
    else if (!strcmp(op, "THREADS_4"))
        threads_gets(4, n);
    else if (!strcmp(op, "THREADS_16"))
        threads_gets(16, n);
    else
        return 0;
    return n;
#undef LOOP
}

int
main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--host") && i + 1 < argc)
            host = argv[++i];
        else if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--unix") && i + 1 < argc)
            unix_path = argv[++i];
        else if (!strcmp(argv[i], "--channel") && i + 1 < argc)
            channel = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--host H] [--port P] [--unix PATH] [--channel C] < requests\n",
                    argv[0]);
            return 2;
        }
    }
    v16 = filled(16);
    v1k = filled(1024);
    v100k = filled(100 * 1024);
    v8m = filled(8 << 20);
    main_ctx = connect_one();
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("{\"ready\": true}\n");

    char line[256], op[128];
    long n;
    while (fgets(line, sizeof line, stdin) != NULL) {
        if (sscanf(line, "%127s %ld", op, &n) != 2 || n <= 0) {
            printf("{\"error\": \"bad request\"}\n");
            continue;
        }
        double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
        long units = run(op, n);
        double w1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_PROCESS_CPUTIME_ID);
        if (units == 0) {
            printf("{\"op\": \"%s\", \"error\": \"unknown workload\"}\n", op);
            continue;
        }
        printf("{\"op\": \"%s\", \"n\": %ld, \"wall_us\": %.4f, \"cpu_us\": %.4f}\n", op, n,
               (w1 - w0) * 1e6 / (double)units, (c1 - c0) * 1e6 / (double)units);
    }
    return 0;
}
