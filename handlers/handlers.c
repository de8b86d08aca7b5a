/*
 * handlers.c - the list of endpoint groups a server is given (handlers.h).
 */
#include "handlers.h"

static const http_group *const GROUPS[] = {&ops_group,   &ui_group,  &io_group,    &iowait_group,
                                           &fetch_group, &cpu_group, &tasks_group, &shaping_group};
static const http_groups ALL = {GROUPS, sizeof(GROUPS) / sizeof(GROUPS[0])};

const http_groups *handlers_all(void)
{
    return &ALL;
}
