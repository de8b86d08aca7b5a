// iocpu live page: the words, in English and Persian, and the language switch.
//
// Every text the page shows is a key here; Lang.t(key, vars) fills {name}
// placeholders, and an element with data-i18n="key" (or data-i18n-aria,
// data-i18n-title) is refilled whenever the language changes. In a text,
// `code` becomes a <code> element (CSS sets it left-to-right and isolated,
// so /healthz or --workers never flips in a right-to-left sentence).
// The Persian words follow docs/GLOSSARY.fa.md: the technical terms the
// lesson uses in English (loop, thread, worker, executor, task, timeout)
// stay in Latin letters, and numbers are written with Latin digits.
// The language comes from localStorage ("iocpu.lang"), else from the
// browser's languages (fa or en, whichever comes first), else English.
// tests/ui/fa_check.mjs checks that both languages have the same keys and
// the same placeholders.
'use strict';

const Lang = (() => {
  const STRINGS = {
    en: {
      'page.title': 'iocpu · watch the event loop',
      'page.skip': 'Skip to the buttons',
      'page.tagline': 'watch the event loop',
      'page.lead': 'One thread runs the event loop and serves every request. Put CPU work on it ' +
        'and everything waits, even `/healthz`; hand the same work to the worker pool and the ' +
        'loop keeps answering.',
      'page.lang': 'Language',
      'conn.connecting': 'connecting…',
      'conn.live': 'live',
      'conn.draining': 'server draining: stream ended',
      'conn.reconnecting': 'reconnecting…',
      'conn.stalled': 'no sample: the loop is stuck',
      'conn.for': 'for {s} s',
      'conn.detail': '{conn} conn · {timers} timers · {workers} workers',
      'charts.title': 'Live, last 30 seconds',
      'chart.lag.title': 'Event-loop lag',
      'chart.lag.hint': 'how late the server\u2019s 10 ms probe timer fires (from `/loop/stream`)',
      'chart.lag.aria': 'Event-loop lag over the last 30 seconds',
      'chart.probe.title': '`/healthz` round trip',
      'chart.probe.hint': 'this page asks every 100 ms; a grey bar is a probe still waiting',
      'chart.probe.aria': 'Round-trip time of the page\u2019s /healthz probe over the last 30 seconds',
      'chart.exec.title': 'Executor',
      'chart.exec.aria': 'Busy workers and queued jobs over the last 30 seconds',
      'chart.exec.busy': 'busy workers',
      'chart.exec.queued': 'queued jobs',
      'chart.exec.cap': 'pool size',
      'chart.now': 'now',
      'chart.ago': '−{s} s',
      'chart.value': 'now {now} · peak {peak}',
      'chart.waiting': 'waiting {t}…',
      'chart.exec.value': 'busy {busy}/{workers} · queued {queued}',
      'chart.io.value': 'IO threads: busy {busy}/{threads} · queued {queued}',
      'legend.aria': 'Shaded bands mark the requests sent from this page',
      'legend.text': 'Bands mark requests sent from this page:',
      'legend.loop': 'on the loop',
      'legend.executor': 'on the executor',
      'legend.io': 'IO timers',
      'lessons.title': 'Try it',
      'foot.text': 'Everything on this page comes from this server; nothing is loaded from ' +
        'elsewhere. The same data as JSON:',

      'group.cpu': 'CPU-bound work',
      'group.io': 'IO-bound work: timers on the loop',
      'group.tasks': 'The job queue: tasks that outlive their request',

      'blocking.title': 'Block the loop',
      'blocking.button': 'Block the loop',
      'blocking.caption': '`cpu_heavy` runs on the loop thread itself. Lag and the probe jump to ' +
        'the length of the job, and the charts freeze: nothing is served until it ends, not ' +
        'even the stream that feeds them.',
      'blocking.band': 'blocking {ms} ms',
      'blocking.summary': 'blocked the loop for {t}',
      'executor.title': 'The same work on the executor',
      'executor.button': 'Run on the executor',
      'executor.caption': '`run_in_executor`: the same job on a worker thread. Lag and the probe ' +
        'stay flat; one worker is busy for the length of the job.',
      'executor.band': 'executor {ms} ms',
      'executor.summary': '{cpu} of CPU on worker {worker}, queued {queued}',
      'burst.title': 'A burst of parallel jobs',
      'burst.button': 'Start the burst',
      'burst.caption': 'All jobs at once on the pool: busy workers climb to the pool size and ' +
        'the rest queue. The loop stays free; elapsed ≈ jobs ÷ workers × ms, speedup ≈ cores.',
      'burst.band': 'burst {jobs}×{ms} ms',
      'burst.summary': '{cpu} of CPU in {elapsed}: speedup {speedup}×',
      'gather.title': 'gather',
      'gather.button': 'gather',
      'gather.caption': 'All the waits at once: elapsed ≈ the longest delay, not the sum. ' +
        '`results` keep submission order; `finish_order` follows the delays.',
      'gather.band': 'gather',
      'gather.summary': 'elapsed {elapsed} (delays add up to {sum}), finished {order}',
      'compare.title': 'gather vs sequential',
      'compare.button': 'Run both',
      'compare.caption': 'The heart of exercise 1: the same delays awaited all at once ' +
        '(`gather`) and one after another (`sequential`), sent together. gather takes the ' +
        'longest delay, sequential the sum.',
      'compare.band': 'gather vs sequential',
      'compare.summary': 'gather {gather}, sequential {sequential}: {x}× faster',
      'compare.gather': 'gather: {t} ≈ the longest delay ({max})',
      'compare.sequential': 'sequential: {t} ≈ the sum ({sum})',
      'compare.aria': 'gather and sequential elapsed times side by side',
      'as_completed.title': 'as_completed',
      'as_completed.button': 'as_completed',
      'as_completed.caption': 'One chunked response, one line the moment each job finishes: ' +
        'shortest first. On the left, when each line reached this page.',
      'as_completed.band': 'as_completed',
      'as_completed.summary': 'finished {order}',
      'wait_for.title': 'wait_for',
      'wait_for.button': 'wait_for',
      'wait_for.caption': 'The answer comes at the timeout and the slow job\u2019s timer is ' +
        'cancelled. Make the timeout longer than the delay and the job finishes in time.',
      'wait_for.band': 'wait_for',
      'wait_for.timed_out': 'timed out after {t}',
      'wait_for.done': 'done in {t}',
      'cancel.title': 'cancel',
      'cancel.button': 'cancel',
      'cancel.caption': '`task.cancel()` after the given time: elapsed ≈ after, and the long ' +
        'timer is gone (the timer count in the top right drops back).',
      'cancel.band': 'cancel',
      'cancel.cancelled': 'cancelled after {t}',
      'cancel.finished': 'finished first, after {t}',
      'semaphore.title': 'Semaphore',
      'semaphore.button': 'semaphore',
      'semaphore.caption': 'At most `limit` jobs in flight: each row is a job, and a bar starts ' +
        'only when another one ends and frees its slot.',
      'semaphore.band': 'semaphore {limit}',
      'semaphore.summary': 'max in flight {max} (limit {limit}), elapsed {elapsed}',
      'semaphore.aria': 'Semaphore timeline: {jobs} jobs, at most {max} at once',
      'semaphore.job': 'job {job}',

      'param.cpu_ms': 'CPU time (ms)',
      'param.jobs': 'jobs',
      'param.ms_each': 'CPU ms each',
      'param.delays': 'delays (s)',
      'param.delay': 'job delay (s)',
      'param.timeout': 'timeout (s)',
      'param.after': 'cancel after (s)',
      'param.limit': 'limit',

      'run.streaming': 'streaming {url}',
      'run.round_trip': 'round trip',
      'run.summary': '{summary} · {rtt} round trip',
      'run.done': 'done',
      'run.refused': 'refused',
      'run.error': 'error',
      'run.lines': 'streamed lines',
      'run.body': 'response body',
      'run.line_done': 'done, elapsed {t} s',
      'run.line': '{name}  {result}  (server: at {at} s)',
      'run.trailer': 'A stream\u2019s header leaves before the work is done; the final timings ' +
        'follow in an HTTP trailer (fetch cannot read it: try `curl -v --raw`).',

      'tasks.title': 'A task: create, watch, await, cancel',
      'tasks.caption': '`POST /tasks` is `asyncio.create_task` over HTTP: the 202 comes back at ' +
        'once and the work goes on without the request. The status below is polled live; ' +
        'Await is `GET /tasks/{id}?wait=` (`await` with a timeout, no thread held) and Cancel ' +
        'is `DELETE` (`task.cancel()`).',
      'tasks.kind': 'kind',
      'tasks.kind.io': 'io: a timer on the loop',
      'tasks.kind.cpu': 'cpu: a job for a worker',
      'tasks.delay': 'delay (s)',
      'tasks.ms': 'CPU time (ms)',
      'tasks.wait': 'await up to (s)',
      'tasks.create': 'Create task',
      'tasks.await': 'Await',
      'tasks.cancel': 'Cancel',
      'tasks.band': 'task {kind}',
      'tasks.created': 'task {id} created: {status}',
      'tasks.status': 'task {id}: {status}',
      'tasks.awaiting': 'awaiting task {id} for up to {wait} s…',
      'tasks.awaited': 'the await returned after {t}: {status}',
      'tasks.still': 'the await ran out after {t}: still {status} (the task goes on)',
      'tasks.cancelled': 'cancel answered {code}: {status}',
      'tasks.too_late': 'cancel answered {code}: the task had already ended',
      'tasks.history': 'status as seen from this page',
      'tasks.none': 'create a task first',
      'status.queued': 'queued',
      'status.running': 'running',
      'status.done': 'done',
      'status.cancelled': 'cancelled',
      'status.failed': 'failed',
      'group.waits': 'IO-bound work: 200 waits of 1 s, four ways',
      'waits.title': 'Wait four ways: async, def, blocking, a real fetch',
      'waits.caption': 'Each row is 200 waits of 1 s started at once, the FastAPI way named: ' +
        '`/io/job` is `asyncio.sleep` in `async def` (a timer, no thread), `/io/threadpool` is ' +
        '`time.sleep` in a plain `def` (one IO thread each, 40 of them), `/io/blocking` is ' +
        '`time.sleep` in `async def` (the loop stalls), and `/io/fetch` is `httpx` in `async def` ' +
        'fetching this server\u2019s own `/io/job`. A browser opens only 6 connections to a ' +
        'server, so the server itself starts the 200: one `/io/fetch/gather?url=…&n=200` per row.',
      'waits.blocking': 'The `/io/blocking` row runs only 5: each one holds the loop for its ' +
        'whole second, so 200 would stall the server for 200 s.',
      'waits.n': 'waits per row',
      'waits.button': 'Run the four rows',
      'waits.table': 'wall time, most IO threads busy and worst loop lag while each row ran',
      'waits.col.way': 'way',
      'waits.col.wall': 'wall time',
      'waits.col.threads': 'IO threads busy',
      'waits.col.lag': 'worst loop lag',
      'waits.running': 'running {path}…',
      'waits.done': 'done: compare the wall times, the threads and the lag',
      'waits.failed': 'failed ({code})',
      'waits.bad_n': 'give a whole number of waits, 1 or more',
    },

    fa: {
      'page.title': 'iocpu · event loop را تماشا کنید',
      'page.skip': 'رفتن به دکمه‌ها',
      'page.tagline': 'event loop را تماشا کنید',
      'page.lead': 'یک thread همان event loop را اجرا می‌کند و به همهٔ درخواست‌ها جواب می‌دهد. ' +
        'کار CPU را روی آن بگذارید تا همه‌چیز منتظر بماند، حتی `/healthz`؛ همان کار را به ' +
        'استخر worker بسپارید تا loop به جواب دادن ادامه دهد.',
      'page.lang': 'زبان',
      'conn.connecting': 'در حال اتصال…',
      'conn.live': 'زنده',
      'conn.draining': 'سرور در حال تخلیه است: جریان تمام شد',
      'conn.reconnecting': 'اتصال دوباره…',
      'conn.stalled': 'نمونه‌ای نمی‌رسد: loop گیر کرده است',
      'conn.for': 'به مدت {s} s',
      'conn.detail': '{conn} اتصال · {timers} timer · {workers} worker',
      'charts.title': 'زنده، 30 ثانیهٔ اخیر',
      'chart.lag.title': 'تأخیر event loop',
      'chart.lag.hint': 'timer آزمایشی 10 میلی‌ثانیه‌ای سرور چقدر دیر اجرا می‌شود (از `/loop/stream`)',
      'chart.lag.aria': 'تأخیر event loop در 30 ثانیهٔ اخیر',
      'chart.probe.title': 'رفت‌وبرگشت `/healthz`',
      'chart.probe.hint': 'این صفحه هر 100 میلی‌ثانیه می‌پرسد؛ میلهٔ خاکستری پرسشی است که هنوز منتظر است',
      'chart.probe.aria': 'زمان رفت‌وبرگشت پرسش /healthz این صفحه در 30 ثانیهٔ اخیر',
      'chart.exec.title': 'Executor',
      'chart.exec.aria': 'workerهای مشغول و کارهای در صف در 30 ثانیهٔ اخیر',
      'chart.exec.busy': 'workerهای مشغول',
      'chart.exec.queued': 'کارهای در صف',
      'chart.exec.cap': 'اندازهٔ استخر',
      'chart.now': 'اکنون',
      'chart.ago': '−{s} s',
      'chart.value': 'اکنون {now} · بیشینه {peak}',
      'chart.waiting': 'در انتظار {t}…',
      'chart.exec.value': 'مشغول {busy}/{workers} · در صف {queued}',
      'chart.io.value': 'threadهای IO: مشغول {busy}/{threads} · در صف {queued}',
      'legend.aria': 'نوارهای رنگی درخواست‌هایی را نشان می‌دهند که از این صفحه فرستاده شده‌اند',
      'legend.text': 'نوارها درخواست‌های این صفحه را نشان می‌دهند:',
      'legend.loop': 'روی loop',
      'legend.executor': 'روی executor',
      'legend.io': 'timerهای I/O',
      'lessons.title': 'امتحان کنید',
      'foot.text': 'همه‌چیزِ این صفحه از همین سرور می‌آید؛ هیچ چیز از جای دیگری بار نمی‌شود. ' +
        'همین داده‌ها به صورت JSON:',

      'group.cpu': 'کار CPU-bound',
      'group.io': 'کار IO-bound: timerها روی loop',
      'group.tasks': 'صف کار: taskهایی که از درخواست‌شان بیشتر عمر می‌کنند',

      'blocking.title': 'مسدود کردن loop',
      'blocking.button': 'loop را مسدود کن',
      'blocking.caption': '`cpu_heavy` روی خود thread مربوط به loop اجرا می‌شود. تأخیر و پرسش ' +
        '`/healthz` به اندازهٔ طول کار بالا می‌روند و نمودارها یخ می‌زنند: تا کار تمام نشود به ' +
        'هیچ چیز جواب داده نمی‌شود، حتی به جریانی که نمودارها را تغذیه می‌کند.',
      'blocking.band': 'مسدودکننده {ms} ms',
      'blocking.summary': 'loop به مدت {t} مسدود شد',
      'executor.title': 'همان کار روی executor',
      'executor.button': 'روی executor اجرا کن',
      'executor.caption': '`run_in_executor`: همان کار روی یک thread از workerها. تأخیر و پرسش ' +
        'صاف می‌مانند؛ یک worker به اندازهٔ طول کار مشغول است.',
      'executor.band': 'executor {ms} ms',
      'executor.summary': '{cpu} CPU روی worker شمارهٔ {worker}، {queued} در صف',
      'burst.title': 'رگباری از کارهای موازی',
      'burst.button': 'رگبار را شروع کن',
      'burst.caption': 'همهٔ کارها با هم روی استخر: workerهای مشغول تا اندازهٔ استخر بالا ' +
        'می‌روند و بقیه در صف می‌مانند. loop آزاد می‌ماند؛ elapsed ≈ کارها ÷ workerها × ms، ' +
        'و speedup ≈ تعداد هسته‌ها.',
      'burst.band': 'رگبار {jobs}×{ms} ms',
      'burst.summary': '{cpu} CPU در {elapsed}: speedup برابر {speedup}×',
      'gather.title': 'gather',
      'gather.button': 'gather',
      'gather.caption': 'همهٔ انتظارها با هم: elapsed ≈ بلندترین تأخیر، نه جمع آن‌ها. ' +
        '`results` به ترتیب ارسال می‌ماند؛ `finish_order` از تأخیرها پیروی می‌کند.',
      'gather.band': 'gather',
      'gather.summary': 'elapsed برابر {elapsed} (جمع تأخیرها {sum})، ترتیب پایان {order}',
      'compare.title': 'gather در برابر sequential',
      'compare.button': 'هر دو را اجرا کن',
      'compare.caption': 'قلب تمرین 1: همان تأخیرها یک بار همه با هم (`gather`) و یک بار یکی ' +
        'پس از دیگری (`sequential`) await می‌شوند، و هر دو درخواست با هم فرستاده می‌شوند. ' +
        'gather به اندازهٔ بلندترین تأخیر طول می‌کشد و sequential به اندازهٔ جمع آن‌ها.',
      'compare.band': 'gather در برابر sequential',
      'compare.summary': 'gather {gather}، sequential {sequential}: {x}× سریع‌تر',
      'compare.gather': 'gather: {t} ≈ بلندترین تأخیر ({max})',
      'compare.sequential': 'sequential: {t} ≈ جمع تأخیرها ({sum})',
      'compare.aria': 'زمان‌های gather و sequential کنار هم',
      'as_completed.title': 'as_completed',
      'as_completed.button': 'as_completed',
      'as_completed.caption': 'یک جواب chunked، و هر خط همان لحظه که کارش تمام شود: کوتاه‌ترین ' +
        'اول. در کنار هر خط زمانی که به این صفحه رسید.',
      'as_completed.band': 'as_completed',
      'as_completed.summary': 'ترتیب پایان {order}',
      'wait_for.title': 'wait_for',
      'wait_for.button': 'wait_for',
      'wait_for.caption': 'جواب سر timeout می‌رسد و timer کار کند لغو می‌شود. timeout را ' +
        'بلندتر از تأخیر کنید تا کار به موقع تمام شود.',
      'wait_for.band': 'wait_for',
      'wait_for.timed_out': 'پس از {t} به timeout خورد',
      'wait_for.done': 'در {t} تمام شد',
      'cancel.title': 'لغو',
      'cancel.button': 'لغو',
      'cancel.caption': '`task.cancel()` پس از زمان داده‌شده: elapsed ≈ after، و timer بلند ' +
        'برداشته می‌شود (شمار timerها در بالای صفحه پایین می‌آید).',
      'cancel.band': 'لغو',
      'cancel.cancelled': 'پس از {t} لغو شد',
      'cancel.finished': 'زودتر تمام شد، پس از {t}',
      'semaphore.title': 'Semaphore',
      'semaphore.button': 'semaphore',
      'semaphore.caption': 'حداکثر `limit` کار هم‌زمان: هر سطر یک کار است و هر میله فقط وقتی ' +
        'شروع می‌شود که کار دیگری تمام شود و جایش را آزاد کند.',
      'semaphore.band': 'semaphore {limit}',
      'semaphore.summary': 'حداکثر هم‌زمان {max} (سقف {limit})، elapsed برابر {elapsed}',
      'semaphore.aria': 'خط زمان semaphore: {jobs} کار، حداکثر {max} کار هم‌زمان',
      'semaphore.job': 'کار {job}',

      'param.cpu_ms': 'زمان CPU (ms)',
      'param.jobs': 'تعداد کار',
      'param.ms_each': 'ms برای هر کار',
      'param.delays': 'تأخیرها (s)',
      'param.delay': 'تأخیر کار (s)',
      'param.timeout': 'timeout (s)',
      'param.after': 'لغو پس از (s)',
      'param.limit': 'سقف',

      'run.streaming': 'در حال دریافت جریان {url}',
      'run.round_trip': 'رفت‌وبرگشت',
      'run.summary': '{summary} · رفت‌وبرگشت {rtt}',
      'run.done': 'تمام شد',
      'run.refused': 'رد شد',
      'run.error': 'خطا',
      'run.lines': 'خط‌های دریافت‌شده',
      'run.body': 'بدنهٔ جواب',
      'run.line_done': 'تمام شد، elapsed برابر {t} s',
      'run.line': '{name}  {result}  (سرور: در {at} s)',
      'run.trailer': 'سرآیند یک جریان پیش از پایان کار فرستاده می‌شود؛ زمان‌های نهایی در یک ' +
        'trailer در HTTP می‌آیند (fetch نمی‌تواند آن را بخواند: `curl -v --raw` را امتحان کنید).',

      'tasks.title': 'یک task: بساز، تماشا کن، await کن، لغو کن',
      'tasks.caption': '`POST /tasks` همان `asyncio.create_task` روی HTTP است: 202 فوراً ' +
        'برمی‌گردد و کار بدون درخواست ادامه می‌یابد. وضعیت پایین زنده پرسیده می‌شود؛ دکمهٔ ' +
        'await همان `GET /tasks/{id}?wait=` است (`await` با timeout، بی آن‌که threadی گرفته ' +
        'شود) و دکمهٔ لغو همان `DELETE` (`task.cancel()`).',
      'tasks.kind': 'نوع',
      'tasks.kind.io': 'io: یک timer روی loop',
      'tasks.kind.cpu': 'cpu: کاری برای یک worker',
      'tasks.delay': 'تأخیر (s)',
      'tasks.ms': 'زمان CPU (ms)',
      'tasks.wait': 'await تا (s)',
      'tasks.create': 'task را بساز',
      'tasks.await': 'await',
      'tasks.cancel': 'لغو',
      'tasks.band': 'task {kind}',
      'tasks.created': 'task {id} ساخته شد: {status}',
      'tasks.status': 'task {id}: {status}',
      'tasks.awaiting': 'await روی task {id} تا {wait} s…',
      'tasks.awaited': 'await پس از {t} برگشت: {status}',
      'tasks.still': 'زمان await پس از {t} تمام شد: هنوز {status} (task ادامه می‌دهد)',
      'tasks.cancelled': 'جواب لغو {code}: {status}',
      'tasks.too_late': 'جواب لغو {code}: task پیش‌تر تمام شده بود',
      'tasks.history': 'وضعیت، آن‌طور که این صفحه دید',
      'tasks.none': 'اول یک task بسازید',
      'status.queued': 'در صف',
      'status.running': 'در حال اجرا',
      'status.done': 'تمام شد',
      'status.cancelled': 'لغو شد',
      'status.failed': 'شکست خورد',
      'group.waits': 'کار IO-bound: 200 انتظار 1 ثانیه‌ای، به چهار روش',
      'waits.title': 'چهار روش انتظار: async، def، مسدود کننده، یک fetch واقعی',
      'waits.caption': 'هر ردیف 200 انتظار 1 ثانیه‌ای است که با هم شروع می‌شوند، به یکی از روش‌های FastAPI: ' +
        '`/io/job` همان `asyncio.sleep` در `async def` است (یک timer، بی thread)، `/io/threadpool` همان ' +
        '`time.sleep` در یک `def` ساده (هر کدام یک thread از 40 thread استخر IO)، `/io/blocking` همان ' +
        '`time.sleep` در `async def` (loop مسدود می‌شود)، و `/io/fetch` همان `httpx` در `async def` ' +
        'که `/io/job` خود این سرور را می‌خواند. مرورگر فقط 6 اتصال به یک سرور باز می‌کند، ' +
        'پس خود سرور آن 200 را شروع می‌کند: برای هر ردیف یک `/io/fetch/gather?url=…&n=200`.',
      'waits.blocking': 'ردیف `/io/blocking` فقط 5 تا را اجرا می‌کند: هر کدام loop را یک ثانیهٔ کامل ' +
        'مسدود می‌کند، پس 200 تا سرور را 200 ثانیه از کار می‌انداخت.',
      'waits.n': 'انتظار در هر ردیف',
      'waits.button': 'اجرای چهار ردیف',
      'waits.table': 'زمان کل، بیشترین threadهای IO مشغول و بدترین تأخیر loop در طول هر ردیف',
      'waits.col.way': 'روش',
      'waits.col.wall': 'زمان کل',
      'waits.col.threads': 'threadهای IO مشغول',
      'waits.col.lag': 'بدترین تأخیر loop',
      'waits.running': 'در حال اجرای {path}…',
      'waits.done': 'تمام شد: زمان‌های کل، threadها و تأخیر را مقایسه کنید',
      'waits.failed': 'شکست خورد ({code})',
      'waits.bad_n': 'یک عدد صحیح 1 یا بیشتر برای تعداد انتظارها بدهید',
    },
  };
  const LANGS = Object.keys(STRINGS);
  const KEY = 'iocpu.lang';
  let lang = 'en';

  // In Persian each value is a bidi isolate (U+2068 ... U+2069): "4.70 ms" or
  // "B → A" keeps its own left-to-right order inside the sentence.
  function t(key, vars) {
    const s = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
    const wrap = lang === 'fa' ? (v) => `\u2068${v}\u2069` : (v) => v;
    return s.replace(/\{(\w+)\}/g, (m, name) => (vars && name in vars ? wrap(String(vars[name])) : m));
  }

  // Fills el with the text of key: `code` spans become <code> elements.
  function fill(el, key, vars) {
    const parts = t(key, vars).split('`');
    el.replaceChildren(...parts.map((p, i) => {
      if (i % 2 === 0) return p;
      const c = document.createElement('code');
      c.textContent = p;
      return c;
    }));
  }

  // Refills every element under root that names a key.
  function apply(root) {
    for (const el of root.querySelectorAll('[data-i18n]')) fill(el, el.dataset.i18n);
    for (const el of root.querySelectorAll('[data-i18n-aria]')) {
      el.setAttribute('aria-label', t(el.dataset.i18nAria));
    }
  }

  function stored() {
    try {
      return localStorage.getItem(KEY);
    } catch (e) {
      return null;
    }
  }

  // The remembered choice, else the first of the browser's languages we have.
  function initial() {
    const saved = stored();
    if (LANGS.includes(saved)) return saved;
    for (const l of navigator.languages || [navigator.language || '']) {
      const primary = String(l).toLowerCase().split('-')[0];
      if (LANGS.includes(primary)) return primary;
    }
    return 'en';
  }

  function set(l, remember) {
    if (!LANGS.includes(l)) return;
    lang = l;
    const root = document.documentElement;
    root.lang = l;
    root.dir = l === 'fa' ? 'rtl' : 'ltr';
    document.title = t('page.title');
    apply(document);
    for (const b of document.querySelectorAll('[data-lang]')) {
      b.setAttribute('aria-pressed', String(b.dataset.lang === l));
    }
    if (remember) {
      try {
        localStorage.setItem(KEY, l);
      } catch (e) {
        // private mode: the choice lasts for this page only
      }
    }
  }

  // The switch in the header: one button per language.
  function mount(box) {
    for (const b of box.querySelectorAll('[data-lang]')) {
      b.addEventListener('click', () => set(b.dataset.lang, true));
    }
    set(initial(), false);
  }

  // Marks el as written in the current language (a run's output keeps the
  // language it was written in when the page switches later).
  function mark(el) {
    el.lang = lang;
    el.dir = lang === 'fa' ? 'rtl' : 'ltr';
    return el;
  }

  return { STRINGS, t, fill, apply, set, mount, mark, get current() { return lang; } };
})();
