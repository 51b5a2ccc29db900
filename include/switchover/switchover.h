/*
 * switchover.h
 *	  The switchover itself, for `switchover` and `migrate`.
 */
#ifndef PGCUTOVER_SWITCHOVER_H
#define PGCUTOVER_SWITCHOVER_H

#include <jansson.h>

#include "options.h"

/* Runs the switchover; *report gets its JSON report (steps, downtime, verify). */
int			switchover_run(Options *opts, json_t **report);

#endif
