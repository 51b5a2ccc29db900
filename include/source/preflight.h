/*
 * preflight.h
 *	  The checks a migration needs to pass before it starts.  `check` prints
 *	  them; `copy` runs the same checks and refuses to start on a FAIL.
 */
#ifndef PGCUTOVER_PREFLIGHT_H
#define PGCUTOVER_PREFLIGHT_H

#include <stdbool.h>
#include <libpq-fe.h>
#include <jansson.h>

#include "options.h"

typedef enum FindingStatus
{
	FINDING_OK,
	FINDING_WARN,
	FINDING_FAIL
} FindingStatus;

typedef struct Finding
{
	FindingStatus status;
	char	   *check;			/* stable identifier, e.g. "wal_level" */
	char	   *message;		/* what was found */
	char	   *fix;			/* exact SQL or config line, NULL when ok */
} Finding;

typedef struct Findings
{
	Finding    *items;
	int			count;
	int			nfail;
	int			nwarn;
	bool		connection_failed;
} Findings;

void		findings_add(Findings *f, FindingStatus status, const char *check,
						 const char *fix, const char *fmt,...)
			__attribute__((format(printf, 5, 6)));
void		findings_free(Findings *f);
void		findings_print(const Findings *f, FILE *out);
json_t	   *findings_to_json(const Findings *f);

/*
 * Runs every check.  src/tgt may be NULL when the connection failed (the
 * caller adds that finding).  for_copy skips checks that only inform.
 */
void		preflight_run(PGconn *src, PGconn *tgt, const Options *opts, Findings *f);

#endif
