/*
 * taskq_lua.c - the scripts that change a task in Redis. Each runs
 * atomically, so a create, a claim, a finish and a cancel from different
 * replicas never interleave on one task. The callers are in taskq.c and
 * taskq_run.c; the KEYS/ARGV of each are written above it. Also the streams
 * and sending a command (taskq_lua.h).
 */
#include "taskq_lua.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "loop.h"

const char *const TQ_STREAM[TQ_NKINDS] = {"iocpu:jobs:cpu", "iocpu:jobs:io"};

const char *const TQ_DEAD_REASON[TQ_DL_NREASONS] = {
    "no_id", "bad_id", "extra_fields", "missing_task", "wrong_type", "invalid_task", "deleted"};

int tq_command(redisconn *c, redisCallbackFn *fn, void *priv, int argc, const char **argv)
{
    if (!c->up || !c->ac) return -1;
    return redisAsyncCommandArgv(c->ac, fn, priv, argc, argv, NULL) == REDIS_OK ? 0 : -1;
}

void tq_now(char *dst, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(dst, len, "%.6f", (double)ts.tv_sec + ts.tv_nsec / 1e9);
}

void tq_log(taskq *q, const char *fmt, ...)
{
    uint64_t hidden;
    int ok = lograte_allow(&q->log, loop_now_ns(), &hidden);
    if (hidden)
        fprintf(stderr, "iocpu: redis: %llu more lines about the queue suppressed\n",
                (unsigned long long)hidden);
    if (!ok) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

/* 1 when text looks like a stream entry id (digits, '-', digits). */
static int entry_id_ok(const char *e)
{
    static const char digits[] = "0123456789";
    size_t a = strspn(e, digits);
    if (!a || a > 20 || e[a] != '-') return 0;
    const char *b = e + a + 1;
    size_t m = strspn(b, digits);
    return m && m <= 20 && !b[m];
}

void tq_dead_lettered(taskq *q, const char *why, const char *stream, const char *entry)
{
    int r = 0;
    while (r < TQ_DL_NREASONS && strcmp(why, TQ_DEAD_REASON[r]))
        r++;
    if (r == TQ_DL_NREASONS) return; /* not one of our scripts' answers */
    atomic_fetch_add_explicit(&q->n_dead[r], 1, memory_order_relaxed);
    const char *kind = !strcmp(stream, TQ_STREAM[TQ_CPU])  ? "cpu"
                       : !strcmp(stream, TQ_STREAM[TQ_IO]) ? "io"
                                                           : "?";
    tq_log(q, "iocpu: redis: %s job %s moved to " TQ_DEAD ": %s\n", kind,
           entry_id_ok(entry) ? entry : "?", TQ_DEAD_REASON[r]);
}

/* Lua shared by the scripts that meet stream entries: what makes one poison,
 * and moving it to the dead-letter stream.
 *   shape(fields)  -> nil for our own entry (exactly: id <32 lowercase hex>),
 *                     else no_id / bad_id / extra_fields (deleted: no fields)
 *   check(id)      -> nil when iocpu:task:<id> is a hash with a known status,
 *                     else missing_task / wrong_type / invalid_task
 *   dead(dk, s, e, why) -> 1 when entry e of stream s was acknowledged or
 *                     deleted here and added to dk with why, 0 when another
 *                     replica got there first. The copy keeps the reason,
 *                     the source stream and entry, and at most 32 of the
 *                     original field/value pairs, each cut to 512 bytes
 *                     (then "truncated 1"). */
#define LUA_POISON                                                                                 \
    "local function shape(f)\n"                                                                    \
    "  if not f then return 'deleted' end\n"                                                       \
    "  local id\n"                                                                                 \
    "  for i = 1, #f - 1, 2 do if f[i] == 'id' then id = f[i + 1] break end end\n"                 \
    "  if not id then return 'no_id' end\n"                                                        \
    "  if #id ~= 32 or not string.find(id, '^[0-9a-f]+$') then return 'bad_id' end\n"              \
    "  if #f ~= 2 then return 'extra_fields' end\n"                                                \
    "  return nil\n"                                                                               \
    "end\n"                                                                                        \
    "local KNOWN = {queued = 1, running = 1, done = 1, cancelled = 1, failed = 1}\n"               \
    "local function check(id)\n"                                                                   \
    "  local k = '" TQ_KEY_PREFIX "' .. id\n"                                                      \
    "  local t = redis.call('TYPE', k)['ok']\n"                                                    \
    "  if t == 'none' then return 'missing_task' end\n"                                            \
    "  if t ~= 'hash' then return 'wrong_type' end\n"                                              \
    "  if not KNOWN[redis.call('HGET', k, 'status') or ''] then return 'invalid_task' end\n"       \
    "  return nil\n"                                                                               \
    "end\n"                                                                                        \
    "local function dead(dk, s, e, why)\n"                                                         \
    "  local got = redis.call('XRANGE', s, e, e)\n"                                                \
    "  local a = redis.call('XACK', s, '" TQ_GROUP "', e)\n"                                       \
    "  local d = redis.call('XDEL', s, e)\n"                                                       \
    "  if a + d == 0 then return 0 end\n"                                                          \
    "  local args = {'XADD', dk, 'MAXLEN', '~', '" TQ_DEAD_MAXLEN "', '*', 'reason', why,\n"       \
    "                'stream', s, 'entry', e}\n"                                                   \
    "  local f = got[1] and got[1][2] or {}\n"                                                     \
    "  local n, cut = #f, false\n"                                                                 \
    "  if n > 64 then n = 64 cut = true end\n"                                                     \
    "  for i = 1, n do\n"                                                                          \
    "    local v = f[i]\n"                                                                         \
    "    if #v > 512 then v = string.sub(v, 1, 512) cut = true end\n"                              \
    "    args[#args + 1] = v\n"                                                                    \
    "  end\n"                                                                                      \
    "  if cut then args[#args + 1] = 'truncated' args[#args + 1] = '1' end\n"                      \
    "  redis.call(unpack(args))\n"                                                                 \
    "  return 1\n"                                                                                 \
    "end\n"

/* KEYS: stream, dead. ARGV: entry -> {reason, 1 or 0, entry}.
 * An entry a replica read that is not ours (shape), or that was deleted
 * while pending: acknowledged, deleted and dead-lettered. */
const char TQ_LUA_DEAD[] =
    LUA_POISON "local got = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])\n"
               "local why = shape(got[1] and got[1][2]) or 'bad_id'\n"
               "return {why, dead(KEYS[2], KEYS[1], ARGV[1], why), ARGV[1]}\n";

/* KEYS: task, cpu stream, io stream, index, dead.
 * ARGV: id, created_at, max live, finished kept, "cpu"|"io", field, value...
 * -> {the stream entry id, or "full" when max live tasks are queued or
 * running, {{reason, stream, entry}... dead-lettered}}. Only poison counts
 * as nothing: when full, the oldest SWEEP entries of each stream are looked
 * at and the poison among them dead-lettered before counting again.
 * The index keeps the newest (kept + live) ids; the finished tasks that fall
 * out of it are deleted, like the memory store forgets its oldest. */
const char TQ_LUA_CREATE[] = LUA_POISON
    "local dl = {}\n"
    "local function sweep(s)\n"
    "  for _, en in ipairs(redis.call('XRANGE', s, '-', '+', 'COUNT', 256)) do\n"
    "    local why = shape(en[2])\n"
    "    if not why then why = check(en[2][2]) end\n"
    "    if why and dead(KEYS[5], s, en[1], why) == 1 then dl[#dl + 1] = {why, s, en[1]} end\n"
    "  end\n"
    "end\n"
    "local function count() return redis.call('XLEN', KEYS[2]) + redis.call('XLEN', KEYS[3]) end\n"
    "local live = count()\n"
    "if live >= tonumber(ARGV[3]) then\n"
    "  sweep(KEYS[2])\n"
    "  sweep(KEYS[3])\n"
    "  live = count()\n"
    "end\n"
    "if live >= tonumber(ARGV[3]) then return {'full', dl} end\n"
    "local s = KEYS[2]\n"
    "if ARGV[5] == 'io' then s = KEYS[3] end\n"
    "local e = redis.call('XADD', s, '*', 'id', ARGV[1])\n"
    "redis.call('HSET', KEYS[1], 'entry', e, 'attempts', '0', 'status', 'queued',\n"
    "           'created_at', ARGV[2], unpack(ARGV, 6))\n"
    "redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])\n"
    "local cap = tonumber(ARGV[4]) + live + 1\n"
    "local n = redis.call('ZCARD', KEYS[4])\n"
    "if n > cap then\n"
    "  for _, old in ipairs(redis.call('ZRANGE', KEYS[4], 0, n - cap - 1)) do\n"
    "    local k = '" TQ_KEY_PREFIX "' .. old\n"
    "    local st = redis.call('HGET', k, 'status')\n"
    "    if st ~= 'queued' and st ~= 'running' then redis.call('DEL', k) end\n"
    "  end\n"
    "  redis.call('ZREMRANGEBYRANK', KEYS[4], 0, n - cap - 1)\n"
    "end\n"
    "return {e, dl}\n";

/* KEYS: task, stream, dead. ARGV: entry, group, consumer, now, max attempts,
 * ttl, channel, id -> {"run", attempt, kind, delay, n, iterations, ms, trace} or
 * {"ended"} (acknowledged, nothing to run) or {"failed"} (too many
 * attempts: failed, acknowledged, waiters woken) or {"dead", reason, 1|0}
 * (no task, or not a hash, or no known status at the id: dead-lettered).
 * Sent again by the same runner (its reply was lost), it answers "run"
 * with the same attempt. */
const char TQ_LUA_START[] = LUA_POISON
    "local why = check(ARGV[8])\n"
    "if why then return {'dead', why, dead(KEYS[3], KEYS[2], ARGV[1], why)} end\n"
    "local r = redis.call('HMGET', KEYS[1], 'status', 'attempts', 'kind', 'delay', 'n',\n"
    "                     'iterations', 'ms', 'runner', 'trace')\n"
    "local function drop()\n"
    "  redis.call('XACK', KEYS[2], ARGV[2], ARGV[1])\n"
    "  redis.call('XDEL', KEYS[2], ARGV[1])\n"
    "end\n"
    "if r[1] ~= 'queued' and r[1] ~= 'running' then drop() return {'ended'} end\n"
    "local a = tonumber(r[2]) or 0\n"
    "if r[1] == 'running' and r[8] == ARGV[3] then\n"
    "  return {'run', tostring(a), r[3] or '', r[4] or '', r[5] or '', r[6] or '', r[7] or '',\n"
    "          r[9] or ''}\n"
    "end\n"
    "if a >= tonumber(ARGV[5]) then\n"
    "  redis.call('HSET', KEYS[1], 'status', 'failed', 'finished_at', ARGV[4], 'error',\n"
    "             'gave up after ' .. a .. ' attempts: the replicas running it stopped')\n"
    "  redis.call('EXPIRE', KEYS[1], ARGV[6])\n"
    "  drop()\n"
    "  redis.call('PUBLISH', ARGV[7], 'done ' .. ARGV[8])\n"
    "  return {'failed'}\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'status', 'running', 'attempts', tostring(a + 1),\n"
    "           'runner', ARGV[3], 'started_at', ARGV[4])\n"
    "return {'run', tostring(a + 1), r[3] or '', r[4] or '', r[5] or '', r[6] or '', r[7] or '',\n"
    "        r[9] or ''}\n";

/* KEYS: task, stream, dead. ARGV: entry, group, consumer, attempt, now, ttl,
 * channel, id, dead reason ("" or invalid_task: the record failed
 * validation), status, field, value... -> "done" (recorded), "ended" (it
 * was cancelled meanwhile; acknowledged), "dead" (recorded or ended, and
 * the entry dead-lettered with the reason) or "lost" (another replica took
 * the job over: nothing written, not acknowledged, it is theirs now). */
const char TQ_LUA_FINISH[] = LUA_POISON
    "local r = redis.call('HMGET', KEYS[1], 'status', 'runner', 'attempts')\n"
    "if r[2] ~= ARGV[3] or r[3] ~= ARGV[4] then return 'lost' end\n"
    "local res = 'ended'\n"
    "if r[1] == 'running' then\n"
    "  redis.call('HSET', KEYS[1], 'status', ARGV[10], 'finished_at', ARGV[5], unpack(ARGV, 11))\n"
    "  redis.call('EXPIRE', KEYS[1], ARGV[6])\n"
    "  redis.call('PUBLISH', ARGV[7], 'done ' .. ARGV[8])\n"
    "  res = 'done'\n"
    "end\n"
    "if ARGV[9] ~= '' then\n"
    "  if dead(KEYS[3], KEYS[2], ARGV[1], ARGV[9]) == 1 then res = 'dead' end\n"
    "  return res\n"
    "end\n"
    "redis.call('XACK', KEYS[2], ARGV[2], ARGV[1])\n"
    "redis.call('XDEL', KEYS[2], ARGV[1])\n"
    "return res\n";

/* KEYS: task, cpu stream, io stream. ARGV: now, ttl, channel, id, group
 * -> {"missing"} / {"ended"} / {"cancelled", {hash fields and values}}.
 * A queued job leaves its stream; a running one is told to stop. */
const char TQ_LUA_CANCEL[] =
    "local r = redis.call('HMGET', KEYS[1], 'status', 'entry', 'kind', 'started_at')\n"
    "if not r[1] then return {'missing'} end\n"
    "if r[1] ~= 'queued' and r[1] ~= 'running' then return {'ended'} end\n"
    "if r[1] == 'queued' then\n"
    "  local s = KEYS[2]\n"
    "  if r[3] == 'io' then s = KEYS[3] end\n"
    "  redis.call('XACK', s, ARGV[5], r[2])\n"
    "  redis.call('XDEL', s, r[2])\n"
    "  redis.call('HSET', KEYS[1], 'status', 'cancelled', 'finished_at', ARGV[1])\n"
    "else\n"
    "  local el = tonumber(ARGV[1]) - (tonumber(r[4]) or tonumber(ARGV[1]))\n"
    "  if el < 0 then el = 0 end\n"
    "  redis.call('HSET', KEYS[1], 'status', 'cancelled', 'finished_at', ARGV[1],\n"
    "             'elapsed', string.format('%.6f', el))\n"
    "  redis.call('PUBLISH', ARGV[3], 'cancel ' .. ARGV[4])\n"
    "end\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[2])\n"
    "redis.call('PUBLISH', ARGV[3], 'done ' .. ARGV[4])\n"
    "return {'cancelled', redis.call('HGETALL', KEYS[1])}\n";

/* KEYS: index. ARGV: limit, key prefix -> {{{id, {hash}}, ...}, total}.
 * Ids whose hash has expired leave the index here. */
const char TQ_LUA_LIST[] =
    "local out = {}\n"
    "for _, id in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)) do\n"
    "  local h = redis.call('HGETALL', ARGV[2] .. id)\n"
    "  if #h > 0 then out[#out + 1] = {id, h} else redis.call('ZREM', KEYS[1], id) end\n"
    "end\n"
    "return {out, redis.call('ZCARD', KEYS[1])}\n";

/* KEYS: stream. ARGV: group, consumer, entry... -> how many were refreshed.
 * Resets the idle time of our own pending entries (so nobody reclaims a
 * job we are running), but never takes one that another replica holds. */
const char TQ_LUA_HEARTBEAT[] =
    "local n = 0\n"
    "for i = 3, #ARGV do\n"
    "  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)\n"
    "  if p[1] and p[1][2] == ARGV[2] then\n"
    "    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')\n"
    "    n = n + 1\n"
    "  end\n"
    "end\n"
    "return n\n";

/* KEYS: task, stream, dead. ARGV: entry, group, id -> {the new entry},
 * {"ended"} or {"dead", reason, 1|0, entry} (no task at the id, or not a
 * hash, or no known status: dead-lettered).
 * Hands a job back (a replica that got it but has no free worker any more):
 * acknowledged and deleted, then added again, so a replica blocked on the
 * stream gets it at once. */
const char TQ_LUA_REQUEUE[] = LUA_POISON
    "local why = check(ARGV[3])\n"
    "if why then return {'dead', why, dead(KEYS[3], KEYS[2], ARGV[1], why), ARGV[1]} end\n"
    "redis.call('XACK', KEYS[2], ARGV[2], ARGV[1])\n"
    "redis.call('XDEL', KEYS[2], ARGV[1])\n"
    "local st = redis.call('HGET', KEYS[1], 'status')\n"
    "if st ~= 'queued' and st ~= 'running' then return {'ended'} end\n"
    "local e = redis.call('XADD', KEYS[2], '*', 'id', ARGV[3])\n"
    "redis.call('HSET', KEYS[1], 'entry', e)\n"
    "return {e}\n";
