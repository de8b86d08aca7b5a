/*
 * test_task.c - the task model both backends share (tasks/task.c): ids,
 * status names, the API view and the iocpu_tasks family.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "prom_check.h"
#include "task.h"

TestSuite(task, .timeout = 30);

Test(task, ids_are_32_hex_and_parse_back)
{
    uint8_t raw[TASK_ID_BYTES], back[TASK_ID_BYTES];
    char id[TASK_ID_LEN + 1], other[TASK_ID_LEN + 1];
    cr_assert_eq(task_id_new(raw, id), 0);
    cr_assert_eq(strlen(id), TASK_ID_LEN);
    cr_assert_eq(task_id_parse(id, back), 0);
    cr_assert_eq(memcmp(raw, back, TASK_ID_BYTES), 0);
    cr_assert_eq(task_id_new(raw, other), 0);
    cr_assert_str_neq(id, other, "128 random bits do not repeat");
    cr_assert_eq(task_id_parse("ABCDEF0123456789abcdef0123456789", back), -1, "upper case");
    cr_assert_eq(task_id_parse("abc", back), -1, "short");
    cr_assert_eq(task_id_parse("abcdef0123456789abcdef0123456789a", back), -1, "long");
}

Test(task, statuses_and_which_have_ended)
{
    cr_assert_str_eq(task_status_name(TASK_QUEUED), "queued");
    cr_assert_str_eq(task_status_name(TASK_FAILED), "failed");
    cr_assert_not(task_status_ended(TASK_RUNNING));
    cr_assert(task_status_ended(TASK_CANCELLED));
}

Test(task, view_of_a_done_io_task)
{
    task_view v = {.spec = {.kind = TASK_IO, .delay = 0.5},
                   .status = TASK_DONE,
                   .created_at = 10,
                   .started_at = 10,
                   .finished_at = 10.5,
                   .elapsed = 0.5,
                   .has_started = 1,
                   .has_finished = 1};
    json_t *o = task_view_json(&v, "r1-abc");
    cr_assert_str_eq(json_string_value(json_object_get(o, "id")), "r1-abc");
    cr_assert_str_eq(json_string_value(json_object_get(o, "result")), "task done after 0.5s");
    cr_assert_float_eq(json_real_value(json_object_get(o, "elapsed")), 0.5, 1e-9);
    cr_assert_null(json_object_get(o, "attempts"), "0 attempts are not shown");
    json_decref(o);
}

Test(task, counts_render_as_one_gauge_family)
{
    uint64_t counts[TASK_NSTATUS] = {[TASK_QUEUED] = 4, [TASK_DONE] = 2};
    buf b = BUF_INIT;
    task_counts_render(counts, &b);
    prom_doc d;
    char err[256];
    cr_assert_eq(prom_parse(b.p, &d, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(prom_type_of(&d, "iocpu_tasks"), "gauge");
    cr_assert_eq(prom_value_of(&d, "iocpu_tasks", "status=\"queued\""), 4);
    cr_assert_eq(prom_value_of(&d, "iocpu_tasks", "status=\"done\""), 2);
    cr_assert_eq(prom_value_of(&d, "iocpu_tasks", "status=\"failed\""), 0);
    prom_doc_free(&d);
    buf_free(&b);
}
