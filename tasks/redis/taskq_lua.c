/*
 * taskq_lua.c - the scripts that change a task in Redis. Each runs
 * atomically, so a create, a claim, a finish and a cancel from different
 * replicas never interleave on one task. The callers are in taskq.c and
 * taskq_run.c; the KEYS/ARGV of each are written above it. Also the streams
 * and sending a command (taskq_lua.h).
 */
#include "taskq_lua.h"

#include <stdio.h>
#include <time.h>

const char *const TQ_STREAM[TQ_NKINDS] = {"iocpu:jobs:cpu", "iocpu:jobs:io"};

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

/* KEYS: task, cpu stream, io stream, index.
 * ARGV: id, created_at, max live, finished kept, "cpu"|"io", field, value...
 * -> the stream entry id, or "full" when max live tasks are queued or running.
 * The index keeps the newest (kept + live) ids; the finished tasks that fall
 * out of it are deleted, like the memory store forgets its oldest. */
const char TQ_LUA_CREATE[] =
    "local live = redis.call('XLEN', KEYS[2]) + redis.call('XLEN', KEYS[3])\n"
    "if live >= tonumber(ARGV[3]) then return 'full' end\n"
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
    "return e\n";

/* KEYS: task, stream. ARGV: entry, group, consumer, now, max attempts, ttl,
 * channel, id -> {"run", attempt, kind, delay, n, iterations, ms} or
 * {"gone"} / {"ended"} (acknowledged, nothing to run) or {"failed"} (too
 * many attempts: failed, acknowledged, waiters woken). Sent again by the
 * same runner (its reply was lost), it answers "run" with the same attempt. */
const char TQ_LUA_START[] =
    "local r = redis.call('HMGET', KEYS[1], 'status', 'attempts', 'kind', 'delay', 'n',\n"
    "                     'iterations', 'ms', 'runner')\n"
    "local function drop()\n"
    "  redis.call('XACK', KEYS[2], ARGV[2], ARGV[1])\n"
    "  redis.call('XDEL', KEYS[2], ARGV[1])\n"
    "end\n"
    "if not r[1] then drop() return {'gone'} end\n"
    "if r[1] ~= 'queued' and r[1] ~= 'running' then drop() return {'ended'} end\n"
    "local a = tonumber(r[2]) or 0\n"
    "if r[1] == 'running' and r[8] == ARGV[3] then\n"
    "  return {'run', tostring(a), r[3] or '', r[4] or '', r[5] or '', r[6] or '', r[7] or ''}\n"
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
    "return {'run', tostring(a + 1), r[3] or '', r[4] or '', r[5] or '', r[6] or '', r[7] or ''}\n";

/* KEYS: task, stream. ARGV: entry, group, consumer, attempt, now, ttl,
 * channel, id, status, field, value... -> "done" (recorded), "ended" (it
 * was cancelled meanwhile; acknowledged) or "lost" (another replica took
 * the job over: nothing written, not acknowledged, it is theirs now). */
const char TQ_LUA_FINISH[] =
    "local r = redis.call('HMGET', KEYS[1], 'status', 'runner', 'attempts')\n"
    "if r[2] ~= ARGV[3] or r[3] ~= ARGV[4] then return 'lost' end\n"
    "local res = 'ended'\n"
    "if r[1] == 'running' then\n"
    "  redis.call('HSET', KEYS[1], 'status', ARGV[9], 'finished_at', ARGV[5], unpack(ARGV, 10))\n"
    "  redis.call('EXPIRE', KEYS[1], ARGV[6])\n"
    "  redis.call('PUBLISH', ARGV[7], 'done ' .. ARGV[8])\n"
    "  res = 'done'\n"
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

/* KEYS: task, stream. ARGV: entry, group, id -> the new entry, or "ended".
 * Hands a job back (a replica that got it but has no free worker any more):
 * acknowledged and deleted, then added again, so a replica blocked on the
 * stream gets it at once. */
const char TQ_LUA_REQUEUE[] = "redis.call('XACK', KEYS[2], ARGV[2], ARGV[1])\n"
                              "redis.call('XDEL', KEYS[2], ARGV[1])\n"
                              "local st = redis.call('HGET', KEYS[1], 'status')\n"
                              "if st ~= 'queued' and st ~= 'running' then return 'ended' end\n"
                              "local e = redis.call('XADD', KEYS[2], '*', 'id', ARGV[3])\n"
                              "redis.call('HSET', KEYS[1], 'entry', e)\n"
                              "return e\n";
